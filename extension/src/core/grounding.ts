// The claim check in the answer panel: the best passage shown while the model reads, then a
// one-line verdict and the sentences held back from the answer (the cited passages don't back them).
// Pure HTML builders (escaped).

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
        ? `[${claim.attributed}] cited by the check` + (claim.cites.length ? ` (the model cited ${claim.cites.map((n) => `[${n}]`).join('')})` : ' (the model cited none)')
        : claim.status === 'uncited'
        ? 'cites no source'
        : claim.status === 'supported'
        ? 'held back with the sentence around it'
        : claim.judged !== null && claim.judged !== undefined
        ? `found, but the model judged ${claim.cites.map((n) => `[${n}]`).join('')} doesn't state it (odds ${claim.judged.toFixed(2)})`
        : `not found in ${claim.cites.map((n) => `[${n}]`).join('')}`
          + (claim.missing.length ? ` (missing: ${claim.missing.slice(0, 4).map(escapeHtml).join(', ')})` : '');
    const kind = attributed && claim.shown !== false ? 'attributed' : claim.status;
    return `<li class="claim ${kind}"><span class="claim-text">${escapeHtml(claim.text)}</span> <span class="why">— ${why}</span></li>`;
}

/** Held back by the claim gate: never in the answer (older servers showed them there, unchecked). */
function heldBack(claim: GroundingClaim): boolean {
    return claim.shown === false || ((claim.shown ?? null) === null && claim.status !== 'supported');
}

/** The verdict line; the sentences whose source the check found; the sentences held back from the
 *  answer (collapsed: not the answer, but there to read); a withheld draft (collapsed). */
export function renderGrounding(final: AnswerFinal | undefined): string {
    if (!final || (!final.verdict && !final.grounding)) {
        return '';
    }
    const g = final.grounding;
    const claims = g?.claims ?? [];
    const held = claims.filter(heldBack);
    const clean = claims.length > 0 && held.length === 0 && !(g?.cautions?.length) && !final.refused && !final.withheld;
    const kind = final.refused ? 'refused' : clean ? 'ok' : claims.length ? 'warn' : 'info';
    const icon = { refused: '✗', ok: '✓', warn: '!', info: 'i' }[kind];
    const verdict = final.verdict || g?.verdict || '';
    const parts = [`<div class="verdict ${kind}" data-verdict="${kind}"><span class="icon">${icon}</span> ${escapeHtml(verdict)}</div>`];
    if (!final.withheld) {
        const found = claims.filter((c) => !heldBack(c) && (c.attributed ?? null) !== null);
        if (found.length) {
            parts.push(`<ul class="claims">${found.map(claimLine).join('')}</ul>`);
        }
        if (held.length) {
            const n = held.length === 1 ? '1 sentence' : `${held.length} sentences`;
            parts.push(`<details class="held-back"><summary>${n} of the model's held back: not found in the passages</summary>`
                + `<ul class="claims">${held.map(claimLine).join('')}</ul></details>`);
        }
    }
    if (final.withheld) {
        parts.push(`<details class="withheld"><summary>The model's draft (withheld: not backed by the docs)</summary>`
            + `<pre>${escapeHtml(final.withheld)}</pre></details>`);
    }
    return `<section class="grounding">${parts.join('')}</section>`;
}
