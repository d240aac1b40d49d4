// Citations: `[n]` markers in an answer ↔ the numbered sources of the final message. Pure.

import { DocResult, Source } from './protocol';

/** `[1]`, `[1, 2]`, `[1,3-4]` (also with an en dash). Bracketed numbers only, at most 3 digits each. */
export const CITATION_PATTERN = /^\[(\d{1,3}(?:\s*(?:,|-|–)\s*\d{1,3}){0,15})\]/;

/** The numbers cited by one bracket group, ranges expanded, order kept, duplicates dropped. */
export function parseCitationGroup(inner: string): number[] {
    const out: number[] = [];
    const push = (n: number) => {
        if (n > 0 && !out.includes(n)) {
            out.push(n);
        }
    };
    for (const part of inner.split(',')) {
        const range = /^\s*(\d+)\s*[-–]\s*(\d+)\s*$/.exec(part);
        if (range) {
            const [a, b] = [Number(range[1]), Number(range[2])];
            if (b >= a && b - a <= 50) {
                for (let n = a; n <= b; n++) {
                    push(n);
                }
            } else {
                push(a);
                push(b);
            }
        } else if (/^\s*\d+\s*$/.test(part)) {
            push(Number(part));
        }
    }
    return out;
}

/** Every citation number in a text, in order of first appearance. */
export function citedNumbers(text: string): number[] {
    const out: number[] = [];
    const re = /\[(\d{1,3}(?:\s*(?:,|-|–)\s*\d{1,3}){0,15})\](?!\()/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
        for (const n of parseCitationGroup(m[1])) {
            if (!out.includes(n)) {
                out.push(n);
            }
        }
    }
    return out;
}

export function findSource(sources: readonly Source[], n: number): Source | undefined {
    return sources.find((s) => s.n === n);
}

export interface Location {
    uri: string;
    /** 0-based line for the editor (for PDF/Office files: page/slide/paragraph - 1). */
    line: number;
    /** The server's label for where the passage is ("p. 12", "slide 4", "lines 3-9"). */
    label?: string;
}

/** Files the editor cannot show as text: opened as files, with the passage's page/slide in a label. */
export const BINARY_DOC = /\.(pdf|docx|pptx)$/i;

/** A `contributes.customEditors` entry of some extension's package.json (e.g. a PDF viewer). */
export interface CustomEditorContribution {
    viewType?: unknown;
    selector?: unknown;
}

/** The view type of an installed custom editor whose file name pattern ("*.pdf", also under any folder) matches. */
export function customEditorFor(editors: readonly CustomEditorContribution[], fileName: string): string | undefined {
    const name = fileName.toLowerCase();
    for (const editor of editors) {
        const selectors = Array.isArray(editor.selector) ? editor.selector : [];
        const matches = selectors.some((s: { filenamePattern?: unknown }) => {
            const pattern = typeof s?.filenamePattern === 'string' ? s.filenamePattern.toLowerCase().replace(/^(\*\*\/)+/, '') : '';
            return pattern.startsWith('*.') && !pattern.slice(1).includes('*') && name.endsWith(pattern.slice(1));
        });
        if (matches && typeof editor.viewType === 'string') {
            return editor.viewType;
        }
    }
    return undefined;
}

/** Where a source or result opens: its URI at its start line (the contract's lines are 1-based). */
export function locationOf(item: Pick<DocResult, 'uri' | 'start_line' | 'place'> & { path?: string }): Location | undefined {
    const uri = item.uri || (item.path && item.path.startsWith('/') ? `file://${encodeURI(item.path)}` : '');
    if (!uri) {
        return undefined;
    }
    const line = Number.isFinite(item.start_line) ? Math.max(0, Math.floor(item.start_line) - 1) : 0;
    return item.place ? { uri, line, label: item.place } : { uri, line };
}

/** "Page › Section" with the path (and "p. 12" / "slide 4" where lines mean nothing), for list items. */
export function describe(item: Pick<DocResult, 'title' | 'heading_path' | 'path' | 'start_line' | 'place'>): { label: string; detail: string } {
    const label = item.heading_path || item.title || item.path;
    const where = item.place && BINARY_DOC.test(item.path) ? ` · ${item.place}` : item.start_line ? `:${item.start_line}` : '';
    return { label, detail: `${item.path}${where}` };
}

/** The most specific heading ("Sub" of "Page › Section › Sub"), for narrow lists. */
export function shortLabel(item: Pick<DocResult, 'title' | 'heading_path' | 'path'>): string {
    const parts = (item.heading_path || '').split('›').map((p) => p.trim()).filter(Boolean);
    return parts[parts.length - 1] || item.title || item.path;
}

const HEADING = /^\s{0,3}#{1,6}\s+\S/;
const SETEXT = /^\s{0,3}(=+|-+)\s*$/;

/**
 * The line to put the cursor on for a section starting at `line` (0-based): the section's heading
 * when it sits just above (an index may count a section from its first body line), else `line`.
 */
export function headingLine(lines: readonly string[], line: number, maxUp = 3): number {
    const start = Math.max(0, Math.min(line, lines.length - 1));
    for (let i = start; i >= 0 && i >= start - maxUp; i--) {
        const text = lines[i] ?? '';
        if (HEADING.test(text)) {
            return i;
        }
        if (i > 0 && SETEXT.test(text) && (lines[i - 1] ?? '').trim()) {
            return i - 1;
        }
        if (i < start && text.trim() && !HEADING.test(text)) {
            return start; // other content in between: the heading is not this section's
        }
    }
    return start;
}
