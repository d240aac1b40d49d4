// Settings mapping: the user's `alpaca.*` configuration → the server's settings section.
// Pure (no vscode import) so it is unit-tested without an editor.

import { FolderSettings, ServerSettings } from './protocol';

export const SECTION = 'alpaca';
export const DEFAULT_RESULTS = 5;
export const MAX_RESULTS = 50;

/** Keys whose change needs a server restart rather than a didChangeConfiguration. */
export const RESTART_KEYS = ['pythonPath', 'python.interpreterPath'] as const;
/** Keys forwarded to the server. */
export const SERVER_KEYS: Array<keyof ServerSettings> = [
    'docsPaths',
    'indexPath',
    'modelPath',
    'endpointUrl',
    'endpointModel',
    'endpointContextSize',
    'allowRemote',
    'resultsCount',
    'hover',
];

/** What the configuration API returns for the section: anything, possibly of the wrong type. */
export type RawSettings = Partial<Record<keyof ServerSettings, unknown>>;

export interface MappingContext {
    /** First workspace folder (fs path), for `${workspaceFolder}` substitution. */
    workspaceFolder?: string;
    /** Used when `indexPath` is empty: the extension's workspace storage, so the index stays out of the docs. */
    defaultIndexPath?: string;
    /** The user's home folder, for `~` expansion. */
    home?: string;
}

export function substitute(value: string, ctx: MappingContext): string {
    let out = value.trim();
    if (ctx.workspaceFolder) {
        out = out.replace(/\$\{workspaceFolder\}/g, ctx.workspaceFolder);
    }
    if (ctx.home && (out === '~' || out.startsWith('~/'))) {
        out = ctx.home + out.slice(1);
    }
    return out;
}

function str(value: unknown, ctx: MappingContext): string {
    return typeof value === 'string' ? substitute(value, ctx) : '';
}

function docsPathsOf(value: unknown, ctx: MappingContext): string[] {
    const docs = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
    const paths = docs
        .filter((p): p is string => typeof p === 'string')
        .map((p) => substitute(p, ctx))
        .filter((p) => p.length > 0);
    return Array.from(new Set(paths));
}

/** One folder of a multi-root workspace: its own `docsPaths` (`${workspaceFolder}` is that folder). */
export function toFolderSettings(folder: string, docsPaths: unknown, ctx: MappingContext = {}): FolderSettings {
    return { path: folder, docsPaths: docsPathsOf(docsPaths, { ...ctx, workspaceFolder: folder }) };
}

export function toServerSettings(raw: RawSettings, ctx: MappingContext = {}): ServerSettings {
    const docsPaths = docsPathsOf(raw.docsPaths, ctx);
    let resultsCount = typeof raw.resultsCount === 'number' && Number.isFinite(raw.resultsCount) ? raw.resultsCount : DEFAULT_RESULTS;
    resultsCount = Math.max(1, Math.min(MAX_RESULTS, Math.round(resultsCount)));
    return {
        docsPaths,
        indexPath: str(raw.indexPath, ctx) || ctx.defaultIndexPath || '',
        modelPath: str(raw.modelPath, ctx),
        endpointUrl: str(raw.endpointUrl, ctx),
        endpointModel: str(raw.endpointModel, ctx),
        endpointContextSize: typeof raw.endpointContextSize === 'number' && raw.endpointContextSize >= 512 ? Math.round(raw.endpointContextSize) : 0,
        allowRemote: raw.allowRemote === true,
        resultsCount,
        hover: raw.hover !== false,
    };
}

/** The didChangeConfiguration payload: the section wrapped under its name. */
export function configurationPayload(settings: ServerSettings): { alpaca: ServerSettings } {
    return { alpaca: settings };
}

export function sameSettings(a: ServerSettings | undefined, b: ServerSettings): boolean {
    return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

/** The open dialog's filters from the extensions the server reads (its status reports them). */
export function documentFilters(extensions: readonly string[] | undefined): Record<string, string[]> {
    const exts = Array.from(new Set((extensions ?? []).map((e) => e.replace(/^\./, '').toLowerCase()).filter(Boolean)));
    return exts.length ? { Documents: exts, 'All files': ['*'] } : { 'All files': ['*'] };
}
