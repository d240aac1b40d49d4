// "Alpaca: Ask the Docs": a webview panel holding a conversation. Each turn streams
// `alpaca/answer` partials as rendered markdown, then the final answer with clickable citations,
// sources and related reading; a follow-up box below asks the next question with the thread as
// history, and "New conversation" starts over. Closing the panel ends the conversation.

import { Disposable, env, ExtensionContext, Uri, ViewColumn, WebviewPanel, window } from 'vscode';
import { findSource } from '../core/citations';
import { AnswerMessage, AskParams, ServerCommand } from '../core/protocol';
import { historyOf, isRunning, renderPastTurn, Turn, turnParts } from '../core/thread';
import { log } from '../common/log';
import { AlpacaClient } from '../common/client';
import { openResult } from './navigation';

const RENDER_INTERVAL_MS = 60;
/** How long a new panel's page may take to load before the question is sent anyway. */
const PAGE_LOAD_WAIT_MS = 5000;

export interface AskOptions {
    /** Text the user selected: sent as context, shown with the question. */
    context?: string;
    /** Start a new conversation instead of following up on the open one. */
    newConversation?: boolean;
}

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
    private turns: Turn[] = [];
    private conversationId = newRequestId();
    private nextTurnId = 1;
    /** Resolves when the panel's page has loaded and can show the first streamed piece. */
    private pageLoaded: Promise<void> = Promise.resolve();
    private onPageLoaded: () => void = () => undefined;
    private renderTimer: NodeJS.Timeout | undefined;
    private readonly disposables: Disposable[] = [];

    constructor(
        private readonly context: ExtensionContext,
        private readonly server: AlpacaClient,
    ) {
        this.disposables.push(server.onAnswer((m) => this.onAnswer(m)));
    }

    private get current(): Turn | undefined {
        return this.turns[this.turns.length - 1];
    }

    /** Asks in the open conversation (a follow-up when it has answers), or in a new one. */
    async ask(question: string, options: AskOptions = {}): Promise<void> {
        if (isRunning(this.current)) {
            void this.cancel();
        }
        if (options.newConversation || !this.panel) {
            this.reset();
        }
        const history = historyOf(this.turns);
        const turn: Turn = { id: this.nextTurnId++, requestId: newRequestId(), question, context: options.context, text: '', state: 'waiting', started: Date.now() };
        this.turns.push(turn);
        this.show();
        this.render();
        // a fast answer (quoted passages) must not finish before a new panel can show it streaming
        await Promise.race([this.pageLoaded, new Promise((resolve) => setTimeout(resolve, PAGE_LOAD_WAIT_MS))]);
        if (!this.turns.includes(turn)) {
            return; // "New conversation" or a closed panel meanwhile
        }
        const params: AskParams = { question, requestId: turn.requestId, conversationId: this.conversationId };
        if (history.length) {
            params.history = history;
        }
        if (turn.context) {
            params.context = turn.context;
        }
        try {
            const reply = await this.server.request<{ requestId?: string }>(ServerCommand.ask, params);
            if (reply?.requestId && reply.requestId !== turn.requestId) {
                turn.requestId = reply.requestId;
            }
        } catch (err) {
            turn.state = 'error';
            turn.error = err instanceof Error ? err.message : String(err);
            log.error(`ask failed: ${turn.error}`);
            this.render();
        }
    }

    /** "New conversation": forget the thread (a running answer is stopped). */
    private reset(): void {
        if (isRunning(this.current)) {
            void this.cancel();
        }
        this.turns = [];
        this.conversationId = newRequestId();
    }

    private show(): void {
        if (this.panel) {
            this.panel.reveal(this.panel.viewColumn ?? ViewColumn.Beside, true);
            return;
        }
        const media = Uri.joinPath(this.context.extensionUri, 'media');
        this.pageLoaded = new Promise((resolve) => (this.onPageLoaded = resolve));
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
<body data-state="waiting" data-turns="0">
<header class="toolbar">
  <span class="title">Conversation</span>
  <div class="actions">
    <span id="badge" class="badge"></span>
    <button id="cancel" class="secondary" title="Stop this answer">Cancel</button>
    <button id="copy" class="secondary" title="Copy the answer as markdown">Copy</button>
    <button id="new" class="secondary" title="Forget this thread and start over">New conversation</button>
  </div>
</header>
<div id="history"></div>
<section id="current" class="turn current">
  <h2 id="question"></h2>
  <div id="context" class="context" hidden></div>
  <div id="query" class="query" hidden></div>
  <div id="notice" class="notice" hidden></div>
  <article id="answer" aria-live="polite"></article>
  <div id="verdict" class="verdict" hidden></div>
  <section id="sources-section" hidden><h3>Sources</h3><div id="sources"></div></section>
  <section id="related-section" hidden><h3>Related reading</h3><div id="related"></div></section>
  <footer id="meta"></footer>
</section>
<form id="follow-up" class="follow-up">
  <textarea id="follow-up-input" rows="2" placeholder="Ask a follow-up question… (Enter to send, Shift+Enter for a new line)" aria-label="Follow-up question"></textarea>
  <button id="send" type="submit" title="Ask in this conversation">Ask</button>
</form>
<script nonce="${n}" src="${js}"></script>
</body>
</html>`;
        webview.onDidReceiveMessage((m) => this.onMessage(m), undefined, this.disposables);
        panel.onDidDispose(() => {
            this.panel = undefined;
            this.reset();
        }, undefined, this.disposables);
        this.panel = panel;
    }

    private onAnswer(message: AnswerMessage): void {
        // an earlier turn stopped by a newer question still gets its (cancelled) final message
        const c = this.turns.find((t) => t.requestId === message.requestId);
        if (!c || !isRunning(c)) {
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
            if (first) {
                this.render();
            } else {
                this.scheduleRender();
            }
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
        if (!this.panel) {
            return;
        }
        const parts = c ? turnParts(c) : undefined;
        void this.panel.webview.postMessage({
            type: 'update',
            turn: c?.id ?? 0,
            turns: this.turns.length,
            state: c?.state ?? 'empty',
            historyHtml: this.turns.slice(0, -1).map(renderPastTurn).join(''),
            ...(parts ?? {}),
            noModel: !!c?.final?.noModel,
            refused: !!c?.final?.refused,
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

    private async onMessage(message: { type: string; n?: number; i?: number; href?: string; turn?: number; text?: string }): Promise<void> {
        // a click in an earlier turn names it; everything else is about the current one
        const c = typeof message.turn === 'number' ? this.turns.find((t) => t.id === message.turn) : this.current;
        switch (message.type) {
            case 'ready':
                this.onPageLoaded();
                this.render();
                break;
            case 'cancel':
                await this.cancel();
                break;
            case 'followUp':
                if (message.text && message.text.trim()) {
                    await this.ask(message.text.trim());
                }
                break;
            case 'new':
                this.reset();
                this.render();
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
