// "Alpaca: Ask the Docs": a webview panel that streams `alpaca/answer` partials as rendered
// markdown, then the final answer with clickable citations, sources and related reading.

import { Disposable, env, ExtensionContext, Uri, ViewColumn, WebviewPanel, window } from 'vscode';
import { findSource } from '../core/citations';
import { AnswerFinal, AnswerMessage, AnswerSources, ServerCommand, Source } from '../core/protocol';
import { renderMarkdown, renderRelated, renderSources, escapeHtml } from '../core/render';
import { backendLabel } from '../core/status';
import { log } from '../common/log';
import { AlpacaServer } from '../common/server';
import { renderBestPassage, renderGrounding } from './grounding';
import { openResult } from './navigation';

type AnswerState = 'waiting' | 'streaming' | 'done' | 'cancelled' | 'error';

interface Conversation {
    requestId: string;
    question: string;
    text: string;
    state: AnswerState;
    final?: AnswerFinal;
    /** What retrieval found, before the model's first token. */
    preview?: AnswerSources;
    error?: string;
    started: number;
}

const RENDER_INTERVAL_MS = 60;

function newRequestId(): string {
    return `ask-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

function nonce(): string {
    let out = '';
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    for (let i = 0; i < 32; i++) {
        out += chars.charAt(Math.floor(Math.random() * chars.length));
    }
    return out;
}

export class AnswerPanel implements Disposable {
    private panel: WebviewPanel | undefined;
    private current: Conversation | undefined;
    private renderTimer: NodeJS.Timeout | undefined;
    private readonly disposables: Disposable[] = [];

    constructor(
        private readonly context: ExtensionContext,
        private readonly server: AlpacaServer,
    ) {
        this.disposables.push(server.onAnswer((m) => this.onAnswer(m)));
    }

    async ask(question: string): Promise<void> {
        if (this.current && (this.current.state === 'streaming' || this.current.state === 'waiting')) {
            void this.cancel();
        }
        const conversation: Conversation = { requestId: newRequestId(), question, text: '', state: 'waiting', started: Date.now() };
        this.current = conversation;
        this.show();
        this.render();
        try {
            const reply = await this.server.request<{ requestId?: string }>(ServerCommand.ask, { question, requestId: conversation.requestId });
            if (reply?.requestId && reply.requestId !== conversation.requestId) {
                conversation.requestId = reply.requestId;
            }
        } catch (err) {
            conversation.state = 'error';
            conversation.error = err instanceof Error ? err.message : String(err);
            log.error(`ask failed: ${conversation.error}`);
            this.render();
        }
    }

    private show(): void {
        if (this.panel) {
            this.panel.reveal(this.panel.viewColumn ?? ViewColumn.Beside, true);
            return;
        }
        const media = Uri.joinPath(this.context.extensionUri, 'media');
        const panel = window.createWebviewPanel('alpaca.answer', 'Alpaca: Answer', { viewColumn: ViewColumn.Beside, preserveFocus: true }, {
            enableScripts: true,
            enableFindWidget: true,
            localResourceRoots: [media],
        });
        panel.iconPath = Uri.joinPath(media, 'alpaca.svg');
        const webview = panel.webview;
        const n = nonce();
        const css = webview.asWebviewUri(Uri.joinPath(media, 'answer.css'));
        const js = webview.asWebviewUri(Uri.joinPath(media, 'answer.js'));
        webview.html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; img-src ${webview.cspSource} data:; font-src ${webview.cspSource}; script-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${css}" rel="stylesheet">
<title>Alpaca: Answer</title>
</head>
<body data-state="waiting">
<header>
  <h2 id="question"></h2>
  <div class="actions">
    <span id="badge" class="badge"></span>
    <button id="cancel" class="secondary" title="Stop this answer">Cancel</button>
    <button id="copy" title="Copy the answer as markdown">Copy</button>
  </div>
</header>
<div id="notice" class="notice" hidden></div>
<article id="answer" aria-live="polite"></article>
<section id="sources-section" hidden><h3>Sources</h3><div id="sources"></div></section>
<section id="related-section" hidden><h3>Related reading</h3><div id="related"></div></section>
<footer id="meta"></footer>
<script nonce="${n}" src="${js}"></script>
</body>
</html>`;
        webview.onDidReceiveMessage((m) => this.onMessage(m), undefined, this.disposables);
        panel.onDidDispose(() => {
            this.panel = undefined;
            if (this.current && (this.current.state === 'streaming' || this.current.state === 'waiting')) {
                void this.cancel();
            }
        }, undefined, this.disposables);
        this.panel = panel;
    }

    private onAnswer(message: AnswerMessage): void {
        const c = this.current;
        if (!c || message.requestId !== c.requestId || c.state === 'done' || c.state === 'cancelled') {
            return;
        }
        if (message.kind === 'sources') {
            c.preview = message;
            this.render();
            return;
        }
        if (message.kind === 'partial') {
            const first = c.state !== 'streaming';
            c.text += message.text;
            c.state = 'streaming';
            // The first piece shows at once, later ones are batched.
            first ? this.render() : this.scheduleRender();
            return;
        }
        c.final = message;
        c.text = message.answer || c.text;
        c.state = message.error ? 'error' : message.cancelled ? 'cancelled' : 'done';
        c.error = message.error;
        this.render();
    }

    private scheduleRender(): void {
        if (!this.renderTimer) {
            this.renderTimer = setTimeout(() => {
                this.renderTimer = undefined;
                this.render();
            }, RENDER_INTERVAL_MS);
        }
    }

    private render(): void {
        if (this.renderTimer) {
            clearTimeout(this.renderTimer);
            this.renderTimer = undefined;
        }
        const c = this.current;
        if (!this.panel || !c) {
            return;
        }
        const final = c.final;
        const sources: Source[] = final?.sources ?? c.preview?.sources ?? [];
        const notices: string[] = [];
        if (c.state === 'error') {
            notices.push(`Could not answer: ${escapeHtml(c.error ?? 'unknown error')}`);
        } else {
            if (final?.refused) {
                notices.push('Your docs do not cover this question.');
            } else if (final?.noModel) {
                notices.push('Answering without a model: these are the most relevant passages from your docs, quoted with their sources.');
            }
            if (final?.notice) {
                notices.push(escapeHtml(final.notice));
            }
        }
        const notice = notices.join('<br>');
        let meta = '';
        if (final) {
            const total = final.timings?.server_total_ms ?? final.timings?.total_ms;
            meta = [backendLabel(final.backend), total !== undefined ? `${(total / 1000).toFixed(1)} s` : '', c.state === 'cancelled' ? 'cancelled' : '']
                .filter(Boolean)
                .join(' · ');
        }
        const best = final?.refused ? undefined : c.preview?.bestPassage;
        const answerHtml =
            renderBestPassage(best, c.state === 'waiting' && !c.text) +
            (c.state === 'waiting' && !c.text
                ? (best ? '' : '<p class="waiting">Searching your docs…</p>')
                : renderMarkdown(c.text, { sources: final?.sources ?? [], final: c.state !== 'streaming' && c.state !== 'waiting' })) +
            renderGrounding(final);
        void this.panel.webview.postMessage({
            type: 'update',
            state: c.state,
            question: c.question,
            answerHtml,
            sourcesHtml: renderSources(sources),
            relatedHtml: renderRelated(final?.related ?? []),
            notice,
            noModel: !!final?.noModel,
            refused: !!final?.refused,
            meta,
        });
    }

    private async cancel(): Promise<void> {
        const c = this.current;
        if (!c) {
            return;
        }
        try {
            await this.server.request(ServerCommand.cancel, { requestId: c.requestId });
        } catch (err) {
            log.warn(`cancel failed: ${err}`);
        }
    }

    private async onMessage(message: { type: string; n?: number; i?: number; href?: string }): Promise<void> {
        const c = this.current;
        switch (message.type) {
            case 'ready':
                this.render();
                break;
            case 'cancel':
                await this.cancel();
                break;
            case 'copy':
                if (c) {
                    await env.clipboard.writeText(c.text);
                    void window.setStatusBarMessage('Alpaca: answer copied', 2000);
                }
                break;
            case 'cite':
            case 'source': {
                const known = c?.final?.sources.length ? c.final.sources : c?.preview?.sources ?? [];
                const source = typeof message.n === 'number' ? findSource(known, message.n) : undefined;
                if (source) {
                    await openResult(source, this.sourceColumn());
                } else if (c?.state === 'streaming' || c?.state === 'waiting') {
                    void window.setStatusBarMessage('Alpaca: the sources arrive when the answer is complete', 3000);
                }
                break;
            }
            case 'related': {
                const item = c?.final && typeof message.i === 'number' ? c.final.related[message.i] : undefined;
                if (item) {
                    await openResult(item, this.sourceColumn());
                }
                break;
            }
            case 'link':
                if (message.href && /^(https?:|mailto:)/i.test(message.href)) {
                    await env.openExternal(Uri.parse(message.href));
                }
                break;
        }
    }

    /** Sources open next to the answer, never on top of it. */
    private sourceColumn(): ViewColumn {
        return this.panel?.viewColumn === ViewColumn.One ? ViewColumn.Two : ViewColumn.One;
    }

    dispose(): void {
        this.panel?.dispose();
        this.disposables.forEach((d) => d.dispose());
    }
}
