import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { configurationPayload, documentFilters, sameSettings, toFolderSettings, toServerSettings } from '../src/core/settings';

describe('settings mapping', () => {
    it('maps defaults, using the storage folder for the index', () => {
        assert.deepEqual(toServerSettings({}, { defaultIndexPath: '/storage/index' }), {
            docsPaths: [],
            indexPath: '/storage/index',
            modelPath: '',
            endpointUrl: '',
            endpointModel: '',
            endpointContextSize: 0,
            allowRemote: false,
            resultsCount: 5,
            hover: true,
        });
    });

    it('passes user values through, trimmed and substituted', () => {
        const s = toServerSettings(
            {
                docsPaths: ['${workspaceFolder}/docs', ' ~/notes ', '', 'docs'],
                indexPath: '~/idx',
                modelPath: ' /models/m.gguf ',
                endpointUrl: 'http://localhost:8080/v1',
                allowRemote: true,
                resultsCount: 8,
                hover: false,
            },
            { workspaceFolder: '/ws', home: '/home/u', defaultIndexPath: '/storage/index' },
        );
        assert.deepEqual(s, {
            docsPaths: ['/ws/docs', '/home/u/notes', 'docs'],
            indexPath: '/home/u/idx',
            modelPath: '/models/m.gguf',
            endpointUrl: 'http://localhost:8080/v1',
            endpointModel: '',
            endpointContextSize: 0,
            allowRemote: true,
            resultsCount: 8,
            hover: false,
        });
    });

    it('drops duplicate and non-string docs paths, accepts a single string', () => {
        assert.deepEqual(toServerSettings({ docsPaths: ['a', 'a', 3, null] }).docsPaths, ['a']);
        assert.deepEqual(toServerSettings({ docsPaths: 'docs' }).docsPaths, ['docs']);
    });

    it('clamps resultsCount and ignores wrong types', () => {
        assert.equal(toServerSettings({ resultsCount: 0 }).resultsCount, 1);
        assert.equal(toServerSettings({ resultsCount: 500 }).resultsCount, 50);
        assert.equal(toServerSettings({ resultsCount: 3.6 }).resultsCount, 4);
        assert.equal(toServerSettings({ resultsCount: '7' }).resultsCount, 5);
        assert.equal(toServerSettings({ allowRemote: 'yes' }).allowRemote, false);
        assert.equal(toServerSettings({ hover: 0 }).hover, true);
        assert.equal(toServerSettings({ modelPath: 42 }).modelPath, '');
    });

    it('wraps the section for didChangeConfiguration and compares settings', () => {
        const a = toServerSettings({});
        assert.deepEqual(Object.keys(configurationPayload(a)), ['alpaca']);
        assert.ok(sameSettings(a, toServerSettings({})));
        assert.ok(!sameSettings(a, toServerSettings({ hover: false })));
        assert.ok(!sameSettings(undefined, a));
    });

    it('maps each folder of a multi-root workspace with its own ${workspaceFolder}', () => {
        assert.deepEqual(toFolderSettings('/ws/b', ['${workspaceFolder}/handbook', 'notes', 'notes', 7], { workspaceFolder: '/ws/a', home: '/h' }), {
            path: '/ws/b',
            docsPaths: ['/ws/b/handbook', 'notes'],
        });
        assert.deepEqual(toFolderSettings('/ws/c', undefined), { path: '/ws/c', docsPaths: [] });
    });

    it("builds the Add Documents filter from the server's extensions, not a copy", () => {
        assert.deepEqual(documentFilters(['.md', '.PDF', '.pptx', '.md']), { Documents: ['md', 'pdf', 'pptx'], 'All files': ['*'] });
        assert.deepEqual(documentFilters(undefined), { 'All files': ['*'] });
    });
});
