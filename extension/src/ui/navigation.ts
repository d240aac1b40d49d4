// Opening a doc at a line (citations, search results, related reading).

import { commands, env, extensions, Position, Range, Selection, TextEditorRevealType, Uri, ViewColumn, window, workspace } from 'vscode';
import { BINARY_DOC, CustomEditorContribution, customEditorFor, headingLine, Location, locationOf } from '../core/citations';
import { DocResult } from '../core/protocol';
import { log } from '../common/log';

export const OPEN_COMMAND = 'alpaca.openLocation';

/**
 * PDF, Word and PowerPoint files: in the viewer extension installed for the type (e.g. a PDF
 * viewer), else revealed in the Explorer rather than dumped into a text editor. No viewer takes a
 * page number, so the page/slide is said in a message, with the system viewer a click away when the
 * window is local (in a remote window the file is on the remote machine).
 */
async function openBinary(uri: Uri, location: Location, column: ViewColumn): Promise<void> {
    const name = uri.path.split('/').pop() ?? uri.path;
    const installed = extensions.all.flatMap((e) => {
        const editors = e.packageJSON?.contributes?.customEditors;
        return Array.isArray(editors) ? (editors as CustomEditorContribution[]) : [];
    });
    const viewType = customEditorFor(installed, name);
    if (viewType) {
        await commands.executeCommand('vscode.openWith', uri, viewType, { viewColumn: column, preview: false });
    } else {
        await commands.executeCommand('revealInExplorer', uri);
    }
    const where = location.label || `${/\.pdf$/i.test(name) ? 'p.' : /\.pptx$/i.test(name) ? 'slide' : '¶'} ${location.line + 1}`;
    const actions = [...(viewType ? [] : ['Open Anyway']), ...(env.remoteName ? [] : ['Open in System Viewer'])];
    const noViewer = viewType ? '' : ` (no viewer for ${name.slice(name.lastIndexOf('.'))} files is installed in the editor)`;
    void window.showInformationMessage(`Alpaca: ${name} — the passage is on ${where}${noViewer}.`, ...actions).then((choice) => {
        if (choice === 'Open Anyway') {
            void commands.executeCommand('vscode.open', uri, { viewColumn: column, preview: false });
        } else if (choice) {
            void env.openExternal(uri);
        }
    });
}

export async function openLocation(location: Location, column: ViewColumn = ViewColumn.One): Promise<void> {
    const uri = Uri.parse(location.uri);
    try {
        if (BINARY_DOC.test(uri.path)) {
            await openBinary(uri, location, column);
            return;
        }
        const doc = await workspace.openTextDocument(uri);
        let line = Math.min(location.line, Math.max(0, doc.lineCount - 1));
        if (doc.languageId === 'markdown' || /\.(md|markdown|mdx|rst)$/i.test(uri.path)) {
            const from = Math.max(0, line - 3);
            const lines = Array.from({ length: line - from + 1 }, (_, i) => doc.lineAt(from + i).text);
            line = from + headingLine(lines, line - from);
        }
        const pos = new Position(line, 0);
        const editor = await window.showTextDocument(doc, { viewColumn: column, preview: false, selection: new Range(pos, pos) });
        editor.selection = new Selection(pos, pos);
        editor.revealRange(new Range(pos, pos), TextEditorRevealType.AtTop);
    } catch (err) {
        log.error(`could not open ${location.uri}: ${err}`);
        void window.showErrorMessage(`Alpaca: could not open ${uri.fsPath || location.uri}: ${err instanceof Error ? err.message : err}`);
    }
}

export async function openResult(item: Pick<DocResult, 'uri' | 'start_line' | 'place'> & { path?: string }, column?: ViewColumn): Promise<void> {
    const location = locationOf(item);
    if (location) {
        await openLocation(location, column);
    }
}

export function registerOpenCommand() {
    return commands.registerCommand(OPEN_COMMAND, (item: DocResult) => openResult(item));
}
