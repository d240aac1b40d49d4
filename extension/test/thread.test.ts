import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { AnswerFinal } from '../src/core/protocol';
import { source } from './fixtures';
import { historyFromChat, historyOf, MAX_HISTORY_ANSWER_CHARS, MAX_HISTORY_TURNS, renderPastTurn, selectionContext, Turn, turnParts } from '../src/core/thread';


const final = (extra: Partial<AnswerFinal> = {}): AnswerFinal => ({
    requestId: 'r',
    kind: 'final',
    answer: 'Scale to zero with a policy [1].',
    sources: [source(1)],
    related: [],
    backend: 'none',
    noModel: true,
    ...extra,
});

let ids = 0;
const turn = (question: string, extra: Partial<Turn> = {}): Turn => ({
    id: ++ids,
    requestId: `r${ids}`,
    question,
    text: `Answer to ${question} [1]`,
    state: 'done',
    final: final(),
    started: 0,
    ...extra,
});

describe('historyOf', () => {
    it('sends finished answers oldest first, with the standalone query a turn was searched with', () => {
        const turns = [turn('How do I scale an async endpoint to zero?'), turn('and for real-time?', { final: final({ query: 'and for real-time? (scale async endpoint zero)', rewrittenBy: 'rule' }) })];
        const history = historyOf(turns);
        assert.deepEqual(history.map((h) => h.question), ['How do I scale an async endpoint to zero?', 'and for real-time?']);
        assert.equal(history[0].query, undefined);
        assert.equal(history[1].query, 'and for real-time? (scale async endpoint zero)');
        assert.match(history[1].answer, /^Answer to and for real-time\?/);
    });

    it('leaves out running, cancelled, failed and empty turns', () => {
        const turns = [
            turn('kept'),
            turn('running', { state: 'streaming', final: undefined }),
            turn('cancelled', { state: 'cancelled' }),
            turn('failed', { state: 'error', error: 'boom' }),
            turn('empty', { text: '   ' }),
        ];
        assert.deepEqual(historyOf(turns).map((h) => h.question), ['kept']);
    });

    it('keeps the newest turns and bounds each answer', () => {
        const turns = Array.from({ length: MAX_HISTORY_TURNS + 3 }, (_, i) => turn(`q${i}`, { text: 'x'.repeat(MAX_HISTORY_ANSWER_CHARS + 50) }));
        const history = historyOf(turns);
        assert.equal(history.length, MAX_HISTORY_TURNS);
        assert.equal(history[0].question, 'q3');
        assert.equal(history[history.length - 1].question, `q${MAX_HISTORY_TURNS + 2}`);
        assert.ok(history.every((h) => h.answer.length === MAX_HISTORY_ANSWER_CHARS));
    });
});

describe('turnParts and renderPastTurn', () => {
    it('shows what a follow-up was searched for, and who rewrote it', () => {
        const rule = turnParts(turn('and for async?', { final: final({ query: 'and for async? (scale <zero>)', rewrittenBy: 'rule' }) }));
        assert.match(rule.queryHtml, /Searched for: <q>and for async\? \(scale &lt;zero&gt;\)<\/q>/);
        assert.match(rule.queryHtml, /earlier question/);
        const model = turnParts(turn('and for async?', { final: final({ query: 'How do I scale an async endpoint?', rewrittenBy: 'model' }) }));
        assert.match(model.queryHtml, /rewritten by the model/);
        assert.equal(turnParts(turn('plain')).queryHtml, '');
        const selected = turnParts(turn('What does this do?', { context: 'AsyncInferenceConfig', final: final({ query: 'What does this do? AsyncInferenceConfig' }) }));
        assert.match(selected.queryHtml, /\(with the selected text\u2019s terms\)/);
        assert.ok(!selected.queryHtml.includes('earlier question'), selected.queryHtml);
    });

    it('shows the selected text as escaped context, cut to a preview', () => {
        const context = ['<b>AsyncInferenceConfig</b>', ...Array.from({ length: 20 }, (_, i) => `line ${i}`)].join('\n');
        const parts = turnParts(turn('What does this do?', { context }));
        assert.match(parts.contextHtml, /About the selected text/);
        assert.match(parts.contextHtml, /&lt;b&gt;AsyncInferenceConfig&lt;\/b&gt;/);
        assert.ok(!parts.contextHtml.includes('line 15'), parts.contextHtml);
        assert.match(parts.contextHtml, /…<\/pre>$/);
        assert.equal(turnParts(turn('no selection')).contextHtml, '');
    });

    it('says why there is no generated answer, and shows errors', () => {
        assert.match(turnParts(turn('q')).notice, /without a model/);
        assert.match(turnParts(turn('q', { final: final({ refused: true, noModel: false, sources: [] }) })).notice, /do not cover/);
        assert.match(turnParts(turn('q', { state: 'error', error: '<boom>' })).notice, /Could not answer: &lt;boom&gt;/);
        assert.equal(turnParts(turn('q', { state: 'waiting', text: '', final: undefined })).answerHtml, '<p class="waiting">Searching your docs…</p>');
    });

    it('renders an earlier turn as one section whose citations and sources name the turn', () => {
        const t = turn('How do I scale <to> zero?');
        const html = renderPastTurn(t);
        assert.match(html, new RegExp(`^<section class="turn past" data-turn="${t.id}">`));
        assert.match(html, /<h2 class="question">How do I scale &lt;to&gt; zero\?<\/h2>/);
        assert.match(html, /<a href="#" class="cite" data-cite="1"/);
        assert.match(html, /<section class="sources"><h3>Sources<\/h3><ol class="sources">/);
        assert.ok(!html.includes('id='.concat('"answer"')), 'earlier turns must not reuse the current turn\u2019s ids');
        assert.ok(html.endsWith('</section>'));
    });
});

describe('selectionContext', () => {
    it('trims, bounds and drops an empty selection', () => {
        assert.equal(selectionContext('   \n '), undefined);
        assert.equal(selectionContext(undefined), undefined);
        assert.equal(selectionContext('  x = 1\n'), 'x = 1');
        assert.equal(selectionContext('y'.repeat(10_000))?.length, 4000);
    });
});

describe('historyFromChat', () => {
    const md = (value: string) => ({ value: { value } });
    it('pairs @alpaca requests with their responses and skips other participants', () => {
        const history = historyFromChat(
            [
                { prompt: 'How do I scale to zero?', participant: 'alpaca.docs' },
                { participant: 'alpaca.docs', response: [md('Use a scaling policy '), md('[1].')], result: { metadata: { query: 'scale zero' } } },
                { prompt: 'unrelated', participant: 'other.agent' },
                { participant: 'other.agent', response: [md('something else')] },
                { prompt: 'and for async?', participant: 'alpaca.docs' },
                { participant: 'alpaca.docs', response: [{ value: 'plain string part' }] },
            ],
            'alpaca.docs',
        );
        assert.deepEqual(history, [
            { question: 'How do I scale to zero?', answer: 'Use a scaling policy [1].', query: 'scale zero' },
            { question: 'and for async?', answer: 'plain string part' },
        ]);
    });

    it('drops a request without an answer', () => {
        assert.deepEqual(historyFromChat([{ prompt: 'q', participant: 'alpaca.docs' }, { participant: 'alpaca.docs', response: [] }], 'alpaca.docs'), []);
    });
});
