import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ServerStatus } from '../src/core/protocol';
import {
    describeTuneTime, shouldSuggestTune, TuneProgress, TuneProgressTracker, tuneConfirmation, tuneMinutes, tuneOutcome, tuneRefusal,
    TuneReport, tuneSuggestion,
} from '../src/core/tune';

const ready: ServerStatus = { state: 'ready', docs: 1200, chunks: 16_000, index_path: '/ws/.alpaca', model: 'all-MiniLM-L6-v2', model_info: { tuned: false }, suggest_tune: true };
const report: TuneReport = {
    model: 'tuned/minilm-20260131-101500', pairs: 8000, steps: 250, planned_steps: 250, stopped_early: false,
    train_seconds: 1800, embed_seconds: 840, chunks: 16_000, reused_vectors: 0, encoded: 16_000, device: 'cpu',
};

function progress(stage: string, done: number, total: number, message = ''): TuneProgress {
    return { requestId: 'r', kind: 'progress', stage, done, total, message };
}

describe('adapting search: the time it takes', () => {
    it('says 30–45 minutes for the shared corpus and scales with the chunk count', () => {
        assert.deepEqual(tuneMinutes(16_000), { low: 30, high: 45 });
        assert.deepEqual(tuneMinutes(8_000), { low: 15, high: 23 });
        assert.equal(describeTuneTime(16_000), 'about 30–45 minutes');
        assert.equal(describeTuneTime(2_000), 'about 4–6 minutes');
    });

    it('never says less than a minute or two (loading the trainer), and hours for a huge index', () => {
        assert.deepEqual(tuneMinutes(67), { low: 1, high: 2 });
        assert.equal(describeTuneTime(0), 'a minute or two');
        // past the pair limit training stops growing; re-embedding still grows with every chunk
        assert.deepEqual(tuneMinutes(64_000), { low: 60, high: 90 });
        assert.equal(describeTuneTime(100_000), 'about 1.5–2 hours');
    });

    it('asks with the chunk count and the estimate', () => {
        const text = tuneConfirmation(ready);
        assert.match(text, /16,000 chunks/);
        assert.match(text, /about 30–45 minutes/);
        assert.match(text, /nothing leaves this machine/);
    });
});

describe('adapting search: when it cannot', () => {
    it('refuses a shared, failed, empty or unknown index with the reason', () => {
        assert.equal(tuneRefusal(ready), undefined);
        assert.match(tuneRefusal({ ...ready, index_path: 's3://docs-bucket/team' }) ?? '', /shared and read-only.*alpaca tune/);
        assert.match(tuneRefusal({ ...ready, state: 'error', message: 'disk full' }) ?? '', /disk full/);
        assert.match(tuneRefusal({ ...ready, chunks: 0 }) ?? '', /empty/);
        assert.match(tuneRefusal(undefined) ?? '', /not reported/);
    });
});

describe('adapting search: progress and outcome', () => {
    it('turns stages into increments that add up to 100 and never go back', () => {
        const t = new TuneProgressTracker();
        const steps = [
            progress('queued', 0, 0), progress('prepare', 0, 0), progress('train', 1, 4, 'training step 1/4, loss 4.0'),
            progress('train', 4, 4), progress('embed', 0, 67), progress('embed', 67, 67), progress('commit', 3, 3),
        ].map((m) => t.step(m));
        assert.equal(Math.round(steps.reduce((a, s) => a + s.increment, 0)), 100);
        assert.ok(steps.every((s) => s.increment >= 0));
        assert.equal(steps[2].message, 'training step 1/4, loss 4.0');
        assert.equal(t.step(progress('train', 1, 4)).increment, 0); // a late report moves nothing back
    });

    it('gives going back most of the bar to re-embedding', () => {
        const t = new TuneProgressTracker(true);
        assert.equal(t.step(progress('embed', 50, 100)).increment, 48.5);
        assert.equal(t.step(progress('mystery', 1, 1)).increment, 0);
    });

    it('closes with what happened', () => {
        const done = tuneOutcome({ requestId: 'r', kind: 'final', report });
        assert.equal(done.level, 'info');
        assert.match(done.text, /8000 pairs \(250\/250 steps in 30 min on cpu\), 16000 chunks re-embedded in 14 min/);
        assert.match(tuneOutcome({ requestId: 'r', kind: 'final', report: { ...report, stopped_early: true, train_seconds: 42 } }).text, /42 s on cpu, stopped at the time budget/);
        assert.deepEqual(tuneOutcome({ requestId: 'r', kind: 'final', cancelled: true }), {
            level: 'warning',
            text: 'Alpaca: stopped; search still uses the model it used before.',
        });
        assert.equal(tuneOutcome({ requestId: 'r', kind: 'final', error: 'the index is empty' }).level, 'error');
        assert.match(tuneOutcome({ requestId: 'r', kind: 'final', error: 'x' }, true).text, /going back to the packaged search model failed: x/);
        assert.match(tuneOutcome({ requestId: 'r', kind: 'final', report: { ...report, reused_vectors: 15_990 } }, true).text, /packaged model again.*15990 kept vectors/);
    });
});

describe('adapting search: the offer', () => {
    it('is made for a ready local index the server says is worth adapting', () => {
        assert.equal(shouldSuggestTune(ready, false), true);
        assert.match(tuneSuggestion(ready), /16,000 chunks; about 30–45 minutes/);
        assert.equal(shouldSuggestTune({ ...ready, suggest_tune: false }, false), false);
        assert.equal(shouldSuggestTune({ ...ready, suggest_tune: undefined }, false), false);  // an older server
    });

    it('is not made when declined, shared, busy or not yet reported', () => {
        assert.equal(shouldSuggestTune(ready, true), false);
        assert.equal(shouldSuggestTune({ ...ready, index_path: 's3://docs/index' }, false), false);
        assert.equal(shouldSuggestTune({ ...ready, state: 'indexing' }, false), false);
        assert.equal(shouldSuggestTune(undefined, false), false);
    });
});
