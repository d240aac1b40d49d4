import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { AnswerFinal, Grounding } from '../src/core/protocol';
import { renderBestPassage, renderGrounding } from '../src/core/grounding';

const grounding: Grounding = {
    verdict: '1 of 2 claims supported by the cited passages; 1 not found in the passage they cite',
    supported: 1,
    unsupported: 1,
    uncited: 0,
    claims: [
        { text: 'Memory goes up to 6144 MB.', status: 'supported', cites: [1], missing: [], evidence: 'up to 6144 MB' },
        { text: 'Timeout is 15 minutes <b>.', status: 'unsupported', cites: [2], missing: ['15 minutes'], evidence: null },
    ],
};

const final = (extra: Partial<AnswerFinal>): AnswerFinal => ({
    requestId: 'r', kind: 'final', answer: 'x', sources: [], related: [], backend: 'llama.cpp', noModel: false, ...extra,
});

describe('renderGrounding', () => {
    it('shows the verdict and marks only the unsupported claims, escaped, with what is missing', () => {
        const html = renderGrounding(final({ grounding, verdict: grounding.verdict }));
        assert.match(html, /class="verdict warn"/);
        assert.match(html, /1 of 2 claims supported/);
        assert.match(html, /class="claim unsupported".*Timeout is 15 minutes &lt;b&gt;\..*not found in \[2\] \(missing: 15 minutes\)/);
        assert.doesNotMatch(html, /Memory goes up/);
    });

    it('sentences the gate held back are listed apart from the answer, collapsed, and counted', () => {
        const gated = {
            ...grounding, supported: 2,
            claims: [
                { ...grounding.claims[0], shown: true },
                { ...grounding.claims[1], shown: false },
                { text: 'Scaling needs a policy.', status: 'supported' as const, cites: [1], missing: [], shown: false },
            ],
        };
        const html = renderGrounding(final({ grounding: gated, verdict: gated.verdict }));
        assert.match(html, /<details class="held-back"><summary>2 sentences of the model's held back/);
        assert.match(html, /Timeout is 15 minutes.*not found in \[2\]/s);
        assert.match(html, /Scaling needs a policy\..*held back with the sentence around it/s);
        assert.doesNotMatch(html, /Memory goes up/);  // shown and backed: it is the answer, not a note
        assert.match(html, /class="verdict warn"/);
    });

    it('a retry\'s sentence the model judged its passage does not state says so, with the odds', () => {
        const judged = {
            ...grounding,
            claims: [grounding.claims[0], { text: 'The model goes in /opt/ml/output/data.', status: 'unsupported' as const,
                cites: [1], missing: [], shown: false, judged: 0.21 }],
        };
        const html = renderGrounding(final({ grounding: judged, verdict: judged.verdict }));
        assert.match(html, /opt\/ml\/output\/data\..*found, but the model judged \[1\] doesn't state it \(odds 0\.21\)/s);
        assert.doesNotMatch(html, /output\/data\..*not found in/s);
    });

    it('a sentence the model left uncited is listed with the source the check found for it', () => {
        const found = {
            ...grounding, supported: 2, unsupported: 0, attributed: 1,
            claims: [grounding.claims[0], { text: 'Async requests queue.', status: 'supported' as const, cites: [], missing: [], attributed: 3 }],
        };
        const html = renderGrounding(final({ grounding: found, verdict: 'all 2 claims supported (1 with a source the check found, not the model)' }));
        assert.match(html, /class="verdict ok"/);
        assert.match(html, /class="claim attributed".*Async requests queue\..*\[3\] cited by the check \(the model cited none\)/);
        assert.doesNotMatch(html, /Memory goes up/);
    });

    it('every sentence backed but the model looped or cited missing sources: a warning, not a clean verdict', () => {
        const backed = { ...grounding, supported: 1, unsupported: 0, claims: [grounding.claims[0]] };
        const ok = renderGrounding(final({ grounding: backed, verdict: 'the claim supported by the cited passages' }));
        assert.match(ok, /class="verdict ok"/);
        const caution = "the model cited sources that don't exist ([5]): read with care";
        const html = renderGrounding(final({
            grounding: { ...backed, cautions: [caution] }, verdict: `the claim supported by the cited passages; ${caution}`,
        }));
        assert.match(html, /class="verdict warn"/);
        assert.match(html, /cited sources that don&#39;t exist \(\[5\]\): read with care|cited sources that don't exist \(\[5\]\): read with care/);
    });

    it('a refusal by the check shows the reason and the draft collapsed', () => {
        const html = renderGrounding(final({
            refused: true, refusalReason: 'grounding', withheld: 'Open the console [1].',
            verdict: 'refused: none of the model\'s 1 claim is supported', grounding: { ...grounding, supported: 0 },
        }));
        assert.match(html, /verdict refused/);
        assert.match(html, /<details class="withheld">.*Open the console \[1\]\./s);
        assert.doesNotMatch(html, /class="claims"/);
    });

    it('a fully supported answer gets a check mark; nothing without a verdict', () => {
        const clean = { ...grounding, supported: 2, unsupported: 0, claims: grounding.claims.map((c) => ({ ...c, status: 'supported' as const })) };
        assert.match(renderGrounding(final({ grounding: clean, verdict: 'all 2 claims supported by the cited passages' })), /verdict ok/);
        assert.equal(renderGrounding(final({})), '');
        assert.equal(renderGrounding(undefined), '');
    });
});

describe('renderBestPassage', () => {
    it('quotes the best passage with a link to open it, while the model reads', () => {
        const html = renderBestPassage({ n: 1, path: 'dg/serverless.md', heading_path: 'Serverless › Memory', uri: 'file:///x', start_line: 38, quote: 'Sizes: 1024 MB … 6144 MB <x>' }, true);
        assert.match(html, /data-source="1"/);
        assert.match(html, /dg\/serverless\.md:38/);
        assert.match(html, /6144 MB &lt;x&gt;/);
        assert.match(html, /The model is reading/);
        assert.equal(renderBestPassage(undefined, true), '');
    });
});
