// Status bar text and the status summary, from `alpaca/status`. Pure.

import { ServerStatus } from './protocol';

export type ClientState = 'starting' | 'running' | 'stopped' | 'failed';

export interface StatusView {
    text: string;
    tooltip: string;
    severity: 'normal' | 'warning' | 'error';
}

function plural(n: number, word: string): string {
    return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function backendLabel(backend: string | undefined): string {
    switch (backend) {
        case 'llama.cpp':
            return 'local model (llama.cpp)';
        case 'openai':
            return 'OpenAI-compatible endpoint';
        case undefined:
        case '':
        case 'none':
        case 'extractive':
            return 'no model (extractive answers)';
        default:
            return backend;
    }
}

export function statusView(client: ClientState, status?: ServerStatus): StatusView {
    if (client === 'starting') {
        return { text: '$(loading~spin) Alpaca: starting', tooltip: 'Alpaca: starting the docs server…', severity: 'normal' };
    }
    if (client === 'failed') {
        return { text: '$(error) Alpaca: server not running', tooltip: 'Alpaca: the docs server could not start. Click for details.', severity: 'error' };
    }
    if (client === 'stopped') {
        return { text: '$(circle-slash) Alpaca: stopped', tooltip: 'Alpaca: the docs server is stopped.', severity: 'warning' };
    }
    if (!status) {
        return { text: '$(loading~spin) Alpaca: connecting', tooltip: 'Alpaca: waiting for the index status…', severity: 'normal' };
    }
    const lines = statusLines(status);
    const tooltip = ['Alpaca', ...lines.map(([k, v]) => `${k}: ${v}`), '', 'Click for status and actions.'].join('\n');
    switch (status.state) {
        case 'indexing': {
            const pct = typeof status.percent === 'number' ? ` ${Math.max(0, Math.min(100, Math.round(status.percent)))}%` : '';
            return { text: `$(sync~spin) Alpaca: indexing${pct}`, tooltip, severity: 'normal' };
        }
        case 'ready': {
            const model = status.backend && status.backend !== 'none' ? '' : ' · no model';
            return { text: `$(book) Alpaca: ready (${plural(status.docs ?? 0, 'doc')})${model}`, tooltip, severity: 'normal' };
        }
        case 'error':
            return { text: '$(error) Alpaca: index error', tooltip, severity: 'error' };
        default:
            return { text: `$(question) Alpaca: ${String(status.state)}`, tooltip, severity: 'warning' };
    }
}

export function formatTime(value: string | number | null | undefined): string {
    if (value === null || value === undefined || value === '') {
        return 'never';
    }
    const date = typeof value === 'number' ? new Date(value > 1e12 ? value : value * 1000) : new Date(value);
    return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

/** Label/value pairs for the tooltip and the Show Status list. */
export function statusLines(status: ServerStatus): Array<[string, string]> {
    const lines: Array<[string, string]> = [];
    const state = status.state === 'indexing' && typeof status.percent === 'number' ? `indexing (${Math.round(status.percent)}%)` : status.state;
    lines.push(['State', state]);
    if (status.message) {
        lines.push(['Message', status.message]);
    }
    lines.push(['Documents', String(status.docs ?? 0)]);
    lines.push(['Chunks', String(status.chunks ?? 0)]);
    if (status.pending) {
        lines.push(['Pending', String(status.pending)]);
    }
    lines.push(['Last sync', formatTime(status.last_sync)]);
    if (status.model) {
        lines.push(['Embedding model', status.model_info?.tuned ? `${status.model} (adapted to these docs)` : status.model]);
    }
    lines.push(['Answers', backendLabel(status.backend)]);
    if (status.roots && status.roots.length) {
        lines.push(['Docs folders', status.roots.join(', ')]);
    }
    if (status.index_path) {
        lines.push(['Index', status.index_path]);
    }
    if (status.egress) {
        lines.push(['Network egress', status.egress]);
    }
    return lines;
}
