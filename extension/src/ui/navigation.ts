// Opening a doc at a line (citations, search results, related reading).

import { commands, Position, Range, Selection, TextEditorRevealType, Uri, ViewColumn, window, workspace } from 'vscode';
import { headingLine, Location, locationOf } from '../core/citations';
import { DocResult } from '../core/protocol';
import { log } from '../common/log';

export const OPEN_COMMAND = 'alpaca.openLocation';

export async function openLocation(location: Location, column: ViewColumn = ViewColumn.One): Promise<void> {
    const uri = Uri.parse(location.uri);
    try {
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

export async function openResult(item: Pick<DocResult, 'uri' | 'start_line'> & { path?: string }, column?: ViewColumn): Promise<void> {
    const location = locationOf(item);
    if (location) {
        await openLocation(location, column);
    }
}

export function registerOpenCommand() {
    return commands.registerCommand(OPEN_COMMAND, (item: DocResult) => openResult(item));
}
