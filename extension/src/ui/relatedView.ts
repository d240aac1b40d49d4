// "Related Reading" tree view: docs related to the active editor, from `alpaca.related` and the
// server's `alpaca/related` pushes; follows editor switches and scrolling.

import {
    Disposable,
    Event,
    EventEmitter,
    MarkdownString,
    TextEditor,
    ThemeIcon,
    TreeDataProvider,
    TreeItem,
    TreeView,
    Uri,
    window,
} from 'vscode';
import { describe, shortLabel } from '../core/citations';
import { DocResult, Notification, ServerCommand, SearchResponse } from '../core/protocol';
import { log } from '../common/log';
import { AlpacaClient } from '../common/client';
import { OPEN_COMMAND } from './navigation';

export const RELATED_VIEW = 'alpaca.related';
const EDITOR_DEBOUNCE_MS = 250;
const SCROLL_DEBOUNCE_MS = 700;

type Node = { kind: 'result'; result: DocResult } | { kind: 'message'; text: string };

export class RelatedView implements TreeDataProvider<Node>, Disposable {
    private readonly changed = new EventEmitter<Node | undefined>();
    readonly onDidChangeTreeData: Event<Node | undefined> = this.changed.event;
    private readonly view: TreeView<Node>;
    private readonly disposables: Disposable[] = [];
    private uri: string | undefined;
    private results: DocResult[] = [];
    private message = 'Open a file to see related docs.';
    private editorTimer: NodeJS.Timeout | undefined;
    private scrollTimer: NodeJS.Timeout | undefined;
    private generation = 0;

    constructor(private readonly server: AlpacaClient) {
        this.view = window.createTreeView(RELATED_VIEW, { treeDataProvider: this, showCollapseAll: false });
        this.disposables.push(
            this.view,
            this.view.onDidChangeVisibility((e) => e.visible && this.refresh()),
            window.onDidChangeActiveTextEditor(() => this.schedule()),
            window.onDidChangeTextEditorVisibleRanges((e) => this.onScroll(e.textEditor)),
            server.onRelated((m) => {
                if (m.uri === this.uri) {
                    this.setResults(m.results);
                }
            }),
            server.onDidChangeState(() => this.schedule()),
            server.onStatus((s) => {
                if (s.state === 'ready' && this.results.length === 0) {
                    this.schedule();
                }
            }),
        );
        this.schedule();
    }

    /** Current entries (for tests and commands). */
    get entries(): readonly DocResult[] {
        return this.results;
    }

    private schedule(): void {
        if (this.editorTimer) {
            clearTimeout(this.editorTimer);
        }
        this.editorTimer = setTimeout(() => void this.refresh(), EDITOR_DEBOUNCE_MS);
    }

    private onScroll(editor: TextEditor): void {
        if (!this.view.visible || editor !== window.activeTextEditor || editor.document.uri.toString() !== this.uri) {
            return;
        }
        if (this.scrollTimer) {
            clearTimeout(this.scrollTimer);
        }
        this.scrollTimer = setTimeout(() => {
            const line = editor.visibleRanges[0]?.start.line ?? 0;
            this.server.notify(Notification.activeDocument, { uri: editor.document.uri.toString(), line });
        }, SCROLL_DEBOUNCE_MS);
    }

    async refresh(): Promise<void> {
        const editor = window.activeTextEditor;
        if (!editor || (editor.document.uri.scheme !== 'file' && editor.document.uri.scheme !== 'untitled')) {
            // Keep the last list when focus moves to a panel (e.g. the answer webview).
            if (!this.uri) {
                this.setMessage('Open a file to see related docs.');
            }
            return;
        }
        if (!this.view.visible) {
            this.uri = undefined; // lazy: refreshed when the view is shown
            return;
        }
        const uri = editor.document.uri.toString();
        this.uri = uri;
        if (!this.server.running) {
            this.setMessage(this.server.state === 'starting' ? 'Starting the docs server…' : 'The Alpaca server is not running.');
            return;
        }
        const generation = ++this.generation;
        try {
            const params = editor.document.uri.scheme === 'file' ? { uri } : { text: editor.document.getText().slice(0, 4000) };
            const reply = await this.server.request<SearchResponse>(ServerCommand.related, params);
            if (generation === this.generation) {
                this.setResults(reply?.results ?? []);
            }
        } catch (err) {
            log.warn(`related for ${uri}: ${err instanceof Error ? err.message : err}`);
            if (generation === this.generation) {
                this.setMessage(`No related reading: ${err instanceof Error ? err.message : err}`);
            }
        }
    }

    private setResults(results: DocResult[]): void {
        // Related reading means other docs: the file being read is not listed.
        const self = this.uri ? Uri.parse(this.uri).fsPath : undefined;
        this.results = results.filter((r) => !r.uri || Uri.parse(r.uri).fsPath !== self);
        this.message = results.length ? '' : 'No related docs for this file.';
        const name = this.uri ? Uri.parse(this.uri).path.split('/').pop() : undefined;
        this.view.message = name && this.results.length ? `Related to ${name}` : undefined;
        this.changed.fire(undefined);
    }

    private setMessage(text: string): void {
        this.results = [];
        this.view.message = undefined;
        this.message = text;
        this.changed.fire(undefined);
    }

    getChildren(node?: Node): Node[] {
        if (node) {
            return [];
        }
        if (this.results.length) {
            return this.results.map((result) => ({ kind: 'result', result }));
        }
        return [{ kind: 'message', text: this.message }];
    }

    getTreeItem(node: Node): TreeItem {
        if (node.kind === 'message') {
            const item = new TreeItem(node.text);
            item.iconPath = new ThemeIcon('info');
            return item;
        }
        const r = node.result;
        const { detail } = describe(r);
        const item = new TreeItem(shortLabel(r));
        item.description = detail;
        item.iconPath = new ThemeIcon('book');
        const tip = new MarkdownString(undefined, true);
        tip.appendMarkdown(`**${escapeMd(r.heading_path || r.title)}**\n\n`);
        tip.appendText(`${detail}\n\n`);
        if (r.snippet) {
            tip.appendText(r.snippet);
        }
        item.tooltip = tip;
        item.command = { command: OPEN_COMMAND, title: 'Open', arguments: [r] };
        item.contextValue = 'alpaca.relatedDoc';
        return item;
    }

    dispose(): void {
        this.disposables.forEach((d) => d.dispose());
        this.changed.dispose();
    }
}

function escapeMd(text: string): string {
    return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}
