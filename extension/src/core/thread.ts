// The answer panel's conversation: turns, the history a follow-up sends to `alpaca.ask`, and each
// turn's parts rendered to safe HTML. Pure (no vscode import), unit-tested.
//
// Every turn renders through `turnParts`, in one order: question, selected text, what was searched,
// notice, answer, verdict, sources, related reading, meta. The current turn's parts fill the panel's
// fixed elements (#question, #answer, …); earlier turns are whole sections above it.

import { renderBestPassage, renderGrounding } from './grounding';
import { AnswerFinal, AnswerSources, HistoryTurn, Source } from './protocol';
import { escapeHtml, renderMarkdown, renderRelated, renderSources } from './render';
import { backendLabel } from './status';

export type TurnState = 'waiting' | 'streaming' | 'done' | 'cancelled' | 'error';

export interface Turn {
    /** Stable within a panel: matches clicks in earlier turns to their sources. */
    id: number;
    requestId: string;
    question: string;
    /** Text the user selected ("Ask About Selection"), sent as context and shown with the question. */
    context?: string;
    text: string;
    state: TurnState;
    final?: AnswerFinal;
    /** What retrieval found, before the model's first token (sources and the best quoted passage). */
    preview?: AnswerSources;
    error?: string;
    started: number;
}

export interface TurnParts {
    question: string;
    contextHtml: string;
    queryHtml: string;
    notice: string;
    answerHtml: string;
    /** Per-answer verdict (claim-level grounding) slot; empty until the final message carries one. */
    verdictHtml: string;
    sourcesHtml: string;
    relatedHtml: string;
    meta: string;
}

/** Turns a follow-up sends along (the server also budgets them by the model's token count). */
export const MAX_HISTORY_TURNS = 8;
/** Of each earlier answer sent as history: enough for its gist, not a whole page of quotes. */
export const MAX_HISTORY_ANSWER_CHARS = 2000;
/** Of the selected text sent as context (the server uses at most 1,500 characters of it). */
export const MAX_CONTEXT_CHARS = 4000;
const CONTEXT_PREVIEW_LINES = 12;

export function isRunning(turn: Turn | undefined): boolean {
    return !!turn && (turn.state === 'waiting' || turn.state === 'streaming');
}

/** The history for a follow-up: finished turns with an answer, oldest first, newest kept. */
export function historyOf(turns: readonly Turn[]): HistoryTurn[] {
    return turns
        .filter((t) => t.state === 'done' && !t.final?.error && t.text.trim())
        .slice(-MAX_HISTORY_TURNS)
        .map((t) => {
            const turn: HistoryTurn = { question: t.question, answer: t.text.slice(0, MAX_HISTORY_ANSWER_CHARS) };
            if (t.final?.query) {
                turn.query = t.final.query;
            }
            return turn;
        });
}

/** The selection as context: trimmed, bounded, undefined when empty. */
export function selectionContext(text: string | undefined): string | undefined {
    const trimmed = (text ?? '').trim();
    return trimmed ? trimmed.slice(0, MAX_CONTEXT_CHARS) : undefined;
}

function contextHtml(context: string | undefined): string {
    if (!context) {
        return '';
    }
    const lines = context.split('\n');
    const shown = lines.slice(0, CONTEXT_PREVIEW_LINES).join('\n') + (lines.length > CONTEXT_PREVIEW_LINES ? '\n…' : '');
    return `<div class="context-label">About the selected text</div><pre class="context-text">${escapeHtml(shown)}</pre>`;
}

function queryHtml(turn: Turn): string {
    const final = turn.final;
    if (!final?.query) {
        return '';
    }
    const how = [
        final.rewrittenBy === 'model' ? 'rewritten by the model' : final.rewrittenBy === 'rule' ? 'with the earlier question\u2019s terms' : '',
        turn.context ? 'with the selected text\u2019s terms' : '',
    ].filter(Boolean);
    return `Searched for: <q>${escapeHtml(final.query)}</q>${how.length ? ` <span class="by">(${how.join(', ')})</span>` : ''}`;
}

function notices(turn: Turn): string {
    const final = turn.final;
    const out: string[] = [];
    if (turn.state === 'error') {
        out.push(`Could not answer: ${escapeHtml(turn.error ?? 'unknown error')}`);
    } else {
        if (final?.refused) {
            out.push('Your docs do not cover this question.');
        } else if (final?.noModel) {
            out.push('Answering without a model: these are the most relevant passages from your docs, quoted with their sources.');
        }
        if (final?.notice) {
            out.push(escapeHtml(final.notice));
        }
    }
    return out.join('<br>');
}

function meta(turn: Turn): string {
    const final = turn.final;
    if (!final) {
        return '';
    }
    const total = final.timings?.server_total_ms ?? final.timings?.total_ms;
    return [backendLabel(final.backend), total !== undefined ? `${(total / 1000).toFixed(1)} s` : '', turn.state === 'cancelled' ? 'cancelled' : '']
        .filter(Boolean)
        .join(' · ');
}

export function turnParts(turn: Turn): TurnParts {
    const final = turn.final;
    const sources: Source[] = final?.sources ?? turn.preview?.sources ?? [];
    const waiting = turn.state === 'waiting' && !turn.text;
    const best = final?.refused ? undefined : turn.preview?.bestPassage;
    const answerHtml =
        renderBestPassage(best, waiting) +
        (waiting
            ? best ? '' : '<p class="waiting">Searching your docs…</p>'
            : renderMarkdown(turn.text, { sources: final?.sources ?? [], final: !isRunning(turn) }));
    return {
        question: turn.question,
        contextHtml: contextHtml(turn.context),
        queryHtml: queryHtml(turn),
        notice: notices(turn),
        answerHtml,
        verdictHtml: renderGrounding(final),
        sourcesHtml: renderSources(sources),
        relatedHtml: renderRelated(final?.related ?? []),
        meta: meta(turn),
    };
}

/** An earlier turn as one section; its links carry the turn's id through `data-turn`. */
export function renderPastTurn(turn: Turn): string {
    const p = turnParts(turn);
    const block = (cls: string, html: string) => (html ? `<div class="${cls}">${html}</div>` : '');
    const section = (title: string, html: string) => (html ? `<section class="${title.toLowerCase().replace(/\s+/g, '-')}"><h3>${title}</h3>${html}</section>` : '');
    return [
        `<section class="turn past" data-turn="${turn.id}">`,
        `<h2 class="question">${escapeHtml(p.question)}</h2>`,
        block('context', p.contextHtml),
        block('query', p.queryHtml),
        block(`notice${turn.state === 'error' ? ' error' : ''}`, p.notice),
        `<article class="answer">${p.answerHtml}</article>`,
        block('verdict', p.verdictHtml),
        section('Sources', p.sourcesHtml),
        section('Related reading', p.relatedHtml),
        p.meta ? `<footer class="meta">${escapeHtml(p.meta)}</footer>` : '',
        '</section>',
    ].join('');
}

/** What the Chat API's history looks like, duck-typed (its types are newer than our engine floor). */
export interface ChatTurnLike {
    prompt?: string;
    participant?: string;
    response?: ReadonlyArray<{ value?: unknown }>;
    result?: { metadata?: { query?: string } };
}

/** `@alpaca` turns of a Chat API history → `alpaca.ask` history: request/response pairs, oldest first. */
export function historyFromChat(turns: readonly ChatTurnLike[], participant: string): HistoryTurn[] {
    const out: HistoryTurn[] = [];
    let question: string | undefined;
    for (const t of turns) {
        if (t.participant !== undefined && t.participant !== participant) {
            question = undefined;
            continue;
        }
        if (typeof t.prompt === 'string') {
            question = t.prompt.trim() || undefined;
        } else if (t.response && question) {
            const answer = t.response
                .map((part) => {
                    const v = part.value as { value?: unknown } | string | undefined;
                    return typeof v === 'string' ? v : typeof v?.value === 'string' ? v.value : '';
                })
                .join('')
                .trim();
            if (answer) {
                const turn: HistoryTurn = { question, answer: answer.slice(0, MAX_HISTORY_ANSWER_CHARS) };
                if (t.result?.metadata?.query) {
                    turn.query = t.result.metadata.query;
                }
                out.push(turn);
            }
            question = undefined;
        }
    }
    return out.slice(-MAX_HISTORY_TURNS);
}
