// The claim check in the answer panel: the best passage shown while the model reads, then a
// one-line verdict and the sentences the cited passages do not back. Pure HTML builders (escaped).

import { describe } from './citations';
import { AnswerFinal, BestPassage, GroundingClaim } from './protocol';
import { escapeHtml } from './render';

/** The quote retrieval found first: readable at once, and it stays above the streamed answer. */
export function renderBestPassage(best: BestPassage | null | undefined, waiting: boolean): string {
    if (!best) {
        return '';
    }
    const { label, detail } = describe({ ...best, title: '' });
    const status = waiting ? '<p class="waiting">The model is reading the passages…</p>' : '';
    return `<aside class="best-passage"><div class="best-label">Best passage: `
        + `<a href="#" data-source="${best.n}" title="Open ${escapeHtml(detail)}">${escapeHtml(label)}</a> `
        + `<span class="path">${escapeHtml(detail)}</span></div><blockquote>${escapeHtml(best.quote)}</blockquote>${status}</aside>`;
}

function claimLine(claim: GroundingClaim): string {
    const attributed = claim.attributed !== null && claim.attributed !== undefined;
    const why = attributed
        ? `no citation from the model; backed by [${claim.attributed}]`
        : claim.status === 'uncited'
        ? 'cites no source'
        : `not found in ${claim.cites.map((n) => `[${n}]`).join('')}`
          + (claim.missing.length ? ` (missing: ${claim.missing.slice(0, 4).map(escapeHtml).join(', ')})` : '');
    return `<li class="claim ${attributed ? 'attributed' : claim.status}"><span class="claim-text">${escapeHtml(claim.text)}</span> <span class="why">— ${why}</span></li>`;
}

/** The verdict line, the unsupported sentences, and a withheld draft (collapsed) after the answer. */
export function renderGrounding(final: AnswerFinal | undefined): string {
    if (!final || (!final.verdict && !final.grounding)) {
        return '';
    }
    const g = final.grounding;
    const clean = !!g && g.claims.length > 0 && g.supported === g.claims.length && !final.refused;
    const kind = final.refused ? 'refused' : clean ? 'ok' : g && g.claims.length ? 'warn' : 'info';
    const icon = { refused: '✗', ok: '✓', warn: '!', info: 'i' }[kind];
    const verdict = final.verdict || g?.verdict || '';
    const parts = [`<div class="verdict ${kind}" data-verdict="${kind}"><span class="icon">${icon}</span> ${escapeHtml(verdict)}</div>`];
    // unsupported and uncited sentences, and those whose source the check found rather than the model
    const flagged = (g?.claims ?? []).filter((c) => c.status !== 'supported' || (c.attributed ?? null) !== null);
    if (flagged.length && !final.withheld) {
        parts.push(`<ul class="claims">${flagged.map(claimLine).join('')}</ul>`);
    }
    if (final.withheld) {
        parts.push(`<details class="withheld"><summary>The model's draft (withheld: not backed by the docs)</summary>`
            + `<pre>${escapeHtml(final.withheld)}</pre></details>`);
    }
    return `<section class="grounding">${parts.join('')}</section>`;
}
