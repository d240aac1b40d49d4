import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ServerStatus } from '../src/core/protocol';
import { backendLabel, statusLines, statusView } from '../src/core/status';

const base: ServerStatus = { state: 'ready', docs: 12, chunks: 340, backend: 'none', model: 'all-MiniLM-L6-v2', egress: 'none (local index, local model)' };

describe('status bar text', () => {
    it('shows client states before any status', () => {
        assert.match(statusView('starting').text, /starting/);
        assert.match(statusView('failed').text, /server not running/);
        assert.equal(statusView('failed').severity, 'error');
        assert.match(statusView('running').text, /connecting/);
    });

    it('shows indexing progress, ready with doc count and model state, errors', () => {
        assert.equal(statusView('running', { ...base, state: 'indexing', percent: 41.6 }).text, '$(sync~spin) Alpaca: indexing 42%');
        assert.equal(statusView('running', base).text, '$(book) Alpaca: ready (12 docs) · no model');
        assert.equal(statusView('running', { ...base, docs: 1, backend: 'llama.cpp' }).text, '$(book) Alpaca: ready (1 doc)');
        const err = statusView('running', { ...base, state: 'error', message: 'disk full' });
        assert.equal(err.severity, 'error');
        assert.match(err.tooltip, /Message: disk full/);
    });

    it('lists the status fields', () => {
        const lines = new Map(statusLines({ ...base, pending: 3, roots: ['/a', '/b'], index_path: '/idx', last_sync: null }));
        assert.equal(lines.get('Documents'), '12');
        assert.equal(lines.get('Pending'), '3');
        assert.equal(lines.get('Docs folders'), '/a, /b');
        assert.equal(lines.get('Last sync'), 'never');
        assert.equal(lines.get('Answers'), 'no model (extractive answers)');
        assert.equal(lines.get('Embedding model'), 'all-MiniLM-L6-v2');
        const tuned = new Map(statusLines({ ...base, model: 'tuned/minilm-20260131-101500', model_info: { tuned: true, pairs: 8000 } }));
        assert.equal(tuned.get('Embedding model'), 'tuned/minilm-20260131-101500 (adapted to these docs)');
    });

    it('labels backends', () => {
        assert.equal(backendLabel('llama.cpp'), 'local model (llama.cpp)');
        assert.equal(backendLabel('openai'), 'OpenAI-compatible endpoint');
        assert.equal(backendLabel(undefined), 'no model (extractive answers)');
    });
});
