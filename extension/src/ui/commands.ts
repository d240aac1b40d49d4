// Command palette commands: Ask the Docs, Ask About Selection, Search Docs, Reindex Docs, Add
// Documents…, Show Status (which also offers adapting search: ui/tune.ts), Restart Server. (IDs differ from the server's `alpaca.*` executeCommand names on purpose: the
// language client registers those itself.)

import * as path from 'path';
import { commands, Disposable, ProgressLocation, QuickPickItem, QuickPickItemKind, Uri, window } from 'vscode';
import { describe } from '../core/citations';
import { AddDocumentsResponse, DocResult, SearchResponse, ServerCommand, ServerStatus } from '../core/protocol';
import { documentFilters } from '../core/settings';
import { statusLines } from '../core/status';
import { selectionContext } from '../core/thread';
import { log, showLog } from '../common/log';
import { AlpacaClient, ServerNotRunning } from '../common/client';
import { openSettings } from '../common/setup';
import { AnswerPanel } from './answerPanel';
import { openResult } from './navigation';
import { SHOW_STATUS_COMMAND } from './statusBar';
import { ADAPT_SEARCH_COMMAND, PACKAGED_MODEL_COMMAND } from './tune';

export const Command = {
    ask: 'alpaca.askDocs',
    askAboutSelection: 'alpaca.askAboutSelection',
    search: 'alpaca.searchDocs',
    reindex: 'alpaca.reindexDocs',
    addDocuments: 'alpaca.addDocs',
    showStatus: SHOW_STATUS_COMMAND,
    restart: 'alpaca.restartServer',
    refreshRelated: 'alpaca.refreshRelated',
} as const;

const SEARCH_DEBOUNCE_MS = 200;
const SEARCH_K = 15;

async function reportFailure(err: unknown, what: string): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    log.error(`${what}: ${message}`);
    const actions = err instanceof ServerNotRunning ? ['Restart Server', 'Show Log'] : ['Show Log'];
    const choice = await window.showErrorMessage(`Alpaca: ${what}: ${message}`, ...actions);
    if (choice === 'Show Log') {
        showLog();
    } else if (choice === 'Restart Server') {
        void commands.executeCommand(Command.restart);
    }
}

export async function askDocs(panel: AnswerPanel, question?: string): Promise<void> {
    let q = typeof question === 'string' ? question : undefined;
    if (!q) {
        q = await window.showInputBox({
            title: 'Alpaca: Ask the Docs',
            prompt: 'Ask a question about your docs (a follow-up when the answer panel is open)',
            placeHolder: 'e.g. How do I check if an endpoint is KMS encrypted?',
            ignoreFocusOut: true,
        });
    }
    if (q && q.trim()) {
        await panel.ask(q.trim());
    }
}

/** The selection travels as context, shown in the thread; the question is typed by the user. */
export async function askAboutSelection(panel: AnswerPanel): Promise<void> {
    const editor = window.activeTextEditor;
    const context = editor && !editor.selection.isEmpty ? selectionContext(editor.document.getText(editor.selection)) : undefined;
    if (!context) {
        void window.showInformationMessage('Alpaca: select some text first, then ask about it.');
        return;
    }
    const lines = context.split('\n').length;
    const q = await window.showInputBox({
        title: 'Alpaca: Ask About Selection',
        prompt: `Ask about the selected text (${lines} line${lines === 1 ? '' : 's'}, sent as context)`,
        placeHolder: 'e.g. What does this setting do?',
        ignoreFocusOut: true,
    });
    if (q && q.trim()) {
        await panel.ask(q.trim(), { context, newConversation: true });
    }
}

interface ResultItem extends QuickPickItem {
    result?: DocResult;
}

function toItem(r: DocResult): ResultItem {
    const { label, detail } = describe(r);
    return { label, description: detail, detail: r.snippet, result: r };
}

export async function searchDocs(server: AlpacaClient): Promise<void> {
    const pick = window.createQuickPick<ResultItem>();
    pick.title = 'Alpaca: Search Docs';
    pick.placeholder = 'Search your docs (results update as you type)';
    pick.matchOnDescription = true;
    pick.matchOnDetail = true;
    let timer: NodeJS.Timeout | undefined;
    let generation = 0;
    const run = async (query: string) => {
        const mine = ++generation;
        if (!query.trim()) {
            pick.items = [];
            pick.busy = false;
            return;
        }
        pick.busy = true;
        try {
            const reply = await server.request<SearchResponse>(ServerCommand.search, { query, k: SEARCH_K });
            if (mine === generation) {
                const items = (reply?.results ?? []).map(toItem);
                // Keep every item: the server already ranked them; the quick pick must not filter them away.
                items.forEach((i) => (i.alwaysShow = true));
                pick.items = items.length ? items : [{ label: 'No matching docs', alwaysShow: true }];
            }
        } catch (err) {
            if (mine === generation) {
                pick.items = [{ label: `$(error) ${err instanceof Error ? err.message : err}`, alwaysShow: true }];
            }
        } finally {
            if (mine === generation) {
                pick.busy = false;
            }
        }
    };
    const disposables: Disposable[] = [
        pick.onDidChangeValue((value) => {
            if (timer) {
                clearTimeout(timer);
            }
            timer = setTimeout(() => void run(value), SEARCH_DEBOUNCE_MS);
        }),
        pick.onDidAccept(async () => {
            const item = pick.selectedItems[0];
            if (item?.result) {
                pick.hide();
                await openResult(item.result);
            }
        }),
        pick.onDidHide(() => {
            disposables.forEach((d) => d.dispose());
            pick.dispose();
        }),
    ];
    const editor = window.activeTextEditor;
    if (editor && !editor.selection.isEmpty) {
        pick.value = editor.document.getText(editor.selection).trim().slice(0, 200);
        void run(pick.value);
    }
    pick.show();
}

/** Resolves when the server reports the index ready again (or after `timeoutMs`). */
function waitReady(server: AlpacaClient, timeoutMs: number): Promise<ServerStatus | undefined> {
    return new Promise((resolve) => {
        let sawIndexing = false;
        const done = (s?: ServerStatus) => {
            clearTimeout(timer);
            sub.dispose();
            resolve(s);
        };
        const timer = setTimeout(() => done(server.lastStatus), timeoutMs);
        const sub = server.onStatus((s) => {
            sawIndexing = sawIndexing || s.state === 'indexing';
            if (s.state === 'error' || (sawIndexing && s.state === 'ready')) {
                done(s);
            }
        });
    });
}

export async function reindexDocs(server: AlpacaClient): Promise<void> {
    try {
        await window.withProgress({ location: ProgressLocation.Notification, title: 'Alpaca: reindexing docs…' }, async () => {
            const ready = waitReady(server, 10 * 60_000);
            const status = await server.request<ServerStatus>(ServerCommand.reindex, {});
            const final = status?.state === 'ready' && !status.pending ? status : await ready;
            if (final?.state === 'error') {
                throw new Error(final.message ?? 'indexing failed');
            }
            window.setStatusBarMessage(`Alpaca: index ready (${final?.docs ?? status?.docs ?? 0} docs)`, 5000);
        });
    } catch (err) {
        await reportFailure(err, 'reindex failed');
    }
}

/** The server's status (for the file types it reads and its docs folders), if it answers. */
async function currentStatus(server: AlpacaClient): Promise<ServerStatus | undefined> {
    if (server.lastStatus?.extensions) {
        return server.lastStatus;
    }
    return server.request<ServerStatus>(ServerCommand.status, {}).catch(() => server.lastStatus);
}

export async function addDocuments(server: AlpacaClient): Promise<void> {
    const status = await currentStatus(server);
    const picked = await window.showOpenDialog({
        title: 'Alpaca: Add Documents',
        openLabel: 'Add to Docs',
        canSelectFiles: true,
        canSelectFolders: true,
        canSelectMany: true,
        filters: documentFilters(status?.extensions),
    });
    if (!picked || !picked.length) {
        return;
    }
    const roots = status?.roots ?? [];
    let target: string | undefined;
    if (roots.length > 1) {  // a multi-root workspace: which folder's docs get the files
        target = await window.showQuickPick(roots, { title: 'Alpaca: add to which docs folder?' });
        if (!target) {
            return;
        }
    }
    try {
        const reply = await window.withProgress(
            { location: ProgressLocation.Notification, title: `Alpaca: adding ${picked.length} item${picked.length === 1 ? '' : 's'} to the docs…` },
            () => server.request<AddDocumentsResponse>(ServerCommand.addDocuments, { paths: picked.map((u) => u.fsPath), ...(target ? { target } : {}) }),
        );
        const added = reply?.added ?? [];
        const skipped = reply?.skipped ?? [];
        skipped.forEach((s) => log.info(`skipped ${typeof s === 'string' ? s : `${s.path}: ${s.reason}`}`));
        const parts = [`added ${added.length} document${added.length === 1 ? '' : 's'}${reply?.target ? ` to ${reply.target}` : ''}`];
        if (added.length && reply?.indexed === false) {
            parts.push('indexing continues in the background');
        }
        if (skipped.length) {
            const first = skipped[0];
            parts.push(`skipped ${skipped.length} (${typeof first === 'string' ? first : `${path.basename(first.path)}: ${first.reason}`}${skipped.length > 1 ? ', …' : ''})`);
        }
        const open = added.length ? 'Open' : undefined;
        const choice = await window.showInformationMessage(`Alpaca: ${parts.join('; ')}.`, ...(open ? [open] : []));
        if (choice === open && added[0]) {
            await openResult({ uri: Uri.file(added[0]).toString(), start_line: 1 });
        }
    } catch (err) {
        await reportFailure(err, 'could not add documents');
    }
}

interface StatusItem extends QuickPickItem {
    action?: () => unknown;
}

export async function showStatus(server: AlpacaClient): Promise<void> {
    let status = server.lastStatus;
    if (server.running) {
        try {
            status = await server.request<ServerStatus>(ServerCommand.status, {});
        } catch (err) {
            log.warn(`status: ${err}`);
        }
    }
    const items: StatusItem[] = [];
    items.push({ label: 'Server', description: server.running ? `running (${server.python})` : `${server.state}${server.failureReason ? `: ${server.failureReason}` : ''}` });
    if (status) {
        for (const [label, value] of statusLines(status)) {
            items.push({ label, description: value });
        }
    }
    items.push({ label: '', kind: QuickPickItemKind.Separator });
    items.push({ label: '$(refresh) Reindex Docs', action: () => commands.executeCommand(Command.reindex) });
    items.push({ label: '$(add) Add Documents…', action: () => commands.executeCommand(Command.addDocuments) });
    items.push(
        status?.model_info?.tuned
            ? { label: '$(discard) Use the Packaged Search Model', action: () => commands.executeCommand(PACKAGED_MODEL_COMMAND) }
            : { label: '$(beaker) Adapt Search to These Docs', action: () => commands.executeCommand(ADAPT_SEARCH_COMMAND) },
    );
    items.push({ label: '$(debug-restart) Restart Server', action: () => commands.executeCommand(Command.restart) });
    items.push({ label: '$(output) Show Log', action: () => showLog() });
    items.push({ label: '$(settings-gear) Open Settings', action: () => openSettings() });
    const choice = await window.showQuickPick(items, { title: 'Alpaca: Status', placeHolder: status ? `Index ${status.state}` : 'No status yet' });
    await choice?.action?.();
}

export function registerCommands(server: AlpacaClient, panel: AnswerPanel, refreshRelated: () => unknown): Disposable[] {
    return [
        commands.registerCommand(Command.ask, (question?: string) => askDocs(panel, question)),
        commands.registerCommand(Command.askAboutSelection, () => askAboutSelection(panel)),
        commands.registerCommand(Command.search, () => searchDocs(server)),
        commands.registerCommand(Command.reindex, () => reindexDocs(server)),
        commands.registerCommand(Command.addDocuments, () => addDocuments(server)),
        commands.registerCommand(Command.showStatus, () => showStatus(server)),
        commands.registerCommand(Command.restart, () => server.restart()),
        commands.registerCommand(Command.refreshRelated, () => refreshRelated()),
    ];
}
