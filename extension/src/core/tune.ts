// "Adapt Search to These Docs" / "Use the Packaged Search Model": the time estimate, whether the index
// can be adapted, the progress bar and the closing message. Pure logic (no vscode import), unit-tested.

import { ServerStatus } from './protocol';

/** What `alpaca tune` reports (alpaca_index.embedding.tune.TuneReport). */
export interface TuneReport {
    model: string;
    pairs: number;
    steps: number;
    planned_steps: number;
    stopped_early: boolean;
    train_seconds: number;
    embed_seconds: number;
    chunks: number;
    reused_vectors: number;
    encoded: number;
    device: string;
}

/** `alpaca/tuneProgress` (server/alpaca_server/features/tune.py). */
export interface TuneProgress {
    requestId: string;
    kind: 'progress' | 'final';
    /** queued, prepare, train, embed, commit */
    stage?: string;
    done?: number;
    total?: number;
    message?: string;
    report?: TuneReport;
    error?: string;
    cancelled?: boolean;
}

/** Reference: ~16,000 chunks take 30–45 minutes on a 2-core laptop, about two thirds training
 * (bounded by the pair limit, 8000 pairs) and one third re-embedding every chunk. */
const REFERENCE_CHUNKS = 16_000;
const TRAIN_MINUTES = { low: 20, high: 30 };
const EMBED_MINUTES = { low: 10, high: 15 };

/** Minutes adapting takes on a 2-core laptop for an index of `chunks` chunks (at least a minute or two:
 * loading the trainer and the model is a fixed cost). */
export function tuneMinutes(chunks: number): { low: number; high: number } {
    const share = Math.max(0, chunks) / REFERENCE_CHUNKS;
    const trained = Math.min(share, 1); // past the pair limit, only re-embedding grows
    const low = TRAIN_MINUTES.low * trained + EMBED_MINUTES.low * share;
    const high = TRAIN_MINUTES.high * trained + EMBED_MINUTES.high * share;
    return { low: Math.max(1, Math.round(low)), high: Math.max(2, Math.round(high)) };
}

function hours(minutes: number): string {
    return String(Math.round(minutes / 30) / 2);
}

/** "a minute or two", "about 30–45 minutes", "about 1.5–2 hours". */
export function describeTuneTime(chunks: number): string {
    const { low, high } = tuneMinutes(chunks);
    if (high <= 2) {
        return 'a minute or two';
    }
    if (high > 90) {
        return `about ${hours(low)}–${hours(high)} hours`;
    }
    return `about ${low}–${high} minutes`;
}

/** Why the index cannot be adapted (or go back) from here, or undefined when it can. */
export function tuneRefusal(status: ServerStatus | undefined): string | undefined {
    if (!status) {
        return 'the Alpaca server has not reported its index yet; try again in a moment';
    }
    if (status.index_path?.includes('://')) {
        return `the index at ${status.index_path} is shared and read-only here: it is adapted where it is written (\`alpaca tune\`)`;
    }
    if (status.state === 'error') {
        return `the index is not available: ${status.message ?? 'see the Alpaca log'}`;
    }
    if (!status.chunks) {
        return 'the index is empty: add docs first, then adapt search to them';
    }
    return undefined;
}

/** Whether to offer adapting search now: a ready local index the server says is worth it (its
 * `suggest_tune`: big enough, on the packaged model; the rule `alpaca index`'s tip uses too). */
export function shouldSuggestTune(status: ServerStatus | undefined, declined: boolean): boolean {
    return !declined && !!status && status.state === 'ready' && !tuneRefusal(status) && !!status.suggest_tune;
}

export function tuneSuggestion(status: ServerStatus): string {
    return (
        `Alpaca: search can adapt to these docs (${status.chunks.toLocaleString('en-US')} chunks; ${describeTuneTime(status.chunks)} ` +
        'on a 2-core laptop, no labels, nothing leaves this machine). On questions we never tuned for, the adapted ' +
        'model put a right page in the top 5 for 92 % of them rather than 88 %.'
    );
}

export function tuneConfirmation(status: ServerStatus): string {
    const chunks = status.chunks.toLocaleString('en-US');
    return (
        `Adapt search to these docs? Alpaca fine-tunes its search model on pairs your ${chunks} chunks already contain ` +
        `(headings → sections, titles → openings; no labels, nothing leaves this machine), then re-embeds them. ` +
        `On a 2-core laptop that takes ${describeTuneTime(status.chunks)} (less with a GPU). Search keeps working ` +
        'meanwhile; stopping leaves the current model in use.'
    );
}

type Span = readonly [number, number];
const TUNE_SPANS: Record<string, Span> = { queued: [0, 0], prepare: [0, 2], train: [2, 70], embed: [70, 97], commit: [97, 100] };
const REVERT_SPANS: Record<string, Span> = { queued: [0, 0], prepare: [0, 2], embed: [2, 95], commit: [95, 100] };

/** Turns `alpaca/tuneProgress` into withProgress increments (it adds them up) and messages. */
export class TuneProgressTracker {
    private reported = 0;

    constructor(private readonly revert = false) {}

    step(m: TuneProgress): { increment: number; message: string } {
        const spans = this.revert ? REVERT_SPANS : TUNE_SPANS;
        const [lo, hi] = spans[m.stage ?? ''] ?? [this.reported, this.reported];
        const fraction = m.total ? Math.min(1, (m.done ?? 0) / m.total) : 0;
        const percent = lo + (hi - lo) * fraction;
        const increment = Math.max(0, percent - this.reported);
        this.reported = Math.max(this.reported, percent);
        return { increment, message: m.message ?? '' };
    }
}

export function formatSeconds(seconds: number): string {
    return seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

export interface TuneOutcome {
    level: 'info' | 'warning' | 'error';
    text: string;
}

/** The closing message of a run, from its final `alpaca/tuneProgress`. */
export function tuneOutcome(final: TuneProgress, revert = false): TuneOutcome {
    if (final.error) {
        const what = revert ? 'going back to the packaged search model failed' : 'adapting search failed';
        return { level: 'error', text: `Alpaca: ${what}: ${final.error}` };
    }
    if (final.cancelled || !final.report) {
        return { level: 'warning', text: 'Alpaca: stopped; search still uses the model it used before.' };
    }
    const r = final.report;
    if (revert) {
        return { level: 'info', text: `Alpaca: search uses the packaged model again (${r.chunks} chunks, ${r.reused_vectors} kept vectors reused).` };
    }
    const budget = r.stopped_early ? ', stopped at the time budget' : '';
    return {
        level: 'info',
        text:
            `Alpaca: search is adapted to these docs: trained on ${r.pairs} pairs (${r.steps}/${r.planned_steps} steps in ` +
            `${formatSeconds(r.train_seconds)} on ${r.device}${budget}), ${r.chunks} chunks re-embedded in ${formatSeconds(r.embed_seconds)}.`,
    };
}
