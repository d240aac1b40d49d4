import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { chooseInterpreter, parseProbe, probeMessage } from '../src/core/interpreter';

describe('interpreter choice', () => {
    it('prefers the setting, then its alias, then the Python extension, then python3', () => {
        assert.deepEqual(chooseInterpreter({ setting: '/venv/bin/python', pythonExtension: '/other' }), { command: '/venv/bin/python', source: 'setting' });
        assert.deepEqual(chooseInterpreter({ setting: ' ', aliasSetting: '/alias', pythonExtension: '/other' }), { command: '/alias', source: 'setting' });
        assert.deepEqual(chooseInterpreter({ pythonExtension: '/ext/python' }), { command: '/ext/python', source: 'python-extension' });
        assert.deepEqual(chooseInterpreter({}), { command: 'python3', source: 'default' });
    });
});

describe('probe results', () => {
    it('accepts a recent Python with the package', () => {
        assert.deepEqual(parseProbe(0, '3.12.1\n', ''), { kind: 'ok', version: '3.12.1' });
    });

    it('reports a missing package', () => {
        const r = parseProbe(3, '3.11.4\n', '');
        assert.equal(r.kind, 'no-server');
        assert.match(probeMessage('/usr/bin/python3', r), /not installed for \/usr\/bin\/python3/);
    });

    it('reports an old Python', () => {
        const r = parseProbe(0, '3.9.18\n', '');
        assert.equal(r.kind, 'old-python');
        assert.match(probeMessage('python3', r), /too old/);
    });

    it('reports a missing interpreter', () => {
        const r = parseProbe(null, '', '', 'not found');
        assert.equal(r.kind, 'no-python');
        assert.match(probeMessage('/nope/python', r), /no Python interpreter at "\/nope\/python" \(not found\)/);
        assert.equal(parseProbe(1, '', 'boom').kind, 'no-python');
    });
});
