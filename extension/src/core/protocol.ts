// The LSP contract of docs/ARCHITECTURE.md, as types and names (no vscode import: unit-testable).

export const SERVER_MODULE = 'alpaca_server';

/** workspace/executeCommand commands served by the language server. */
export const ServerCommand = {
    ask: 'alpaca.ask',
    cancel: 'alpaca.cancel',
    search: 'alpaca.search',
    related: 'alpaca.related',
    status: 'alpaca.status',
    reindex: 'alpaca.reindex',
    addDocuments: 'alpaca.addDocuments',
} as const;

/** Notifications (server → client, and the client's active-document hint). */
export const Notification = {
    answer: 'alpaca/answer',
    related: 'alpaca/related',
    status: 'alpaca/status',
    activeDocument: 'alpaca/activeDocument',
} as const;

/** The `alpaca` settings section the server reads (initializationOptions / didChangeConfiguration). */
export interface ServerSettings {
    docsPaths: string[];
    indexPath: string;
    modelPath: string;
    endpointUrl: string;
    allowRemote: boolean;
    resultsCount: number;
    hover: boolean;
}

/** A search / related result. Lines are 1-based. */
export interface DocResult {
    title: string;
    heading_path: string;
    path: string;
    uri: string;
    start_line: number;
    end_line: number;
    anchor?: string;
    snippet?: string;
    score?: number;
}

export interface Source {
    n: number;
    title: string;
    heading_path: string;
    path: string;
    uri: string;
    anchor?: string;
    start_line: number;
    end_line: number;
    mtime?: number | null;
}

export interface AnswerPartial {
    requestId: string;
    kind: 'partial';
    text: string;
}

export interface AnswerFinal {
    requestId: string;
    kind: 'final';
    answer: string;
    sources: Source[];
    related: DocResult[];
    backend: string;
    noModel: boolean;
    timings?: Record<string, number>;
    /** The docs do not cover the question (the answer says so; no sources). */
    refused?: boolean;
    /** Something the user should know about this answer (e.g. model unavailable, citations removed). */
    notice?: string | null;
    invalidCitations?: number[];
    cancelled?: boolean;
    error?: string;
    /** One line on how far to trust the answer (claim check or why it was refused). */
    verdict?: string;
    /** Each sentence of a generated answer checked against the passage it cites. */
    grounding?: Grounding | null;
    /** The model's draft when no claim of it was supported (the answer is then a refusal). */
    withheld?: string | null;
    refusalReason?: 'retrieval' | 'model' | 'grounding' | null;
}

export interface GroundingClaim {
    text: string;
    status: 'supported' | 'unsupported' | 'uncited';
    cites: number[];
    similarity?: number | null;
    missing: string[];
    evidence?: string | null;
}

export interface Grounding {
    verdict: string;
    supported: number;
    unsupported: number;
    uncited: number;
    claims: GroundingClaim[];
}

/** The sentence(s) of the best passage closest to the question: shown while the model reads. */
export interface BestPassage {
    n: number;
    path: string;
    heading_path: string;
    uri: string;
    start_line: number;
    anchor?: string;
    quote: string;
}

/** Sent once retrieval is done, before the model reads anything. */
export interface AnswerSources {
    requestId: string;
    kind: 'sources';
    sources: Source[];
    bestPassage?: BestPassage | null;
}

export type AnswerMessage = AnswerPartial | AnswerFinal | AnswerSources;

export interface RelatedNotification {
    uri: string;
    results: DocResult[];
}

export type IndexState = 'indexing' | 'ready' | 'error';

export interface ServerStatus {
    state: IndexState;
    docs: number;
    chunks: number;
    last_sync?: string | number | null;
    pending?: number;
    percent?: number;
    model?: string;
    backend?: string;
    index_path?: string;
    egress?: string;
    message?: string;
    roots?: string[];
}

export interface SearchResponse {
    results: DocResult[];
}

export interface AddDocumentsResponse {
    added: string[];
    skipped: Array<{ path: string; reason: string } | string>;
    target?: string;
    indexed?: boolean;
}
