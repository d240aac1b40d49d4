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
    tune: 'alpaca.tune',
    tuneCancel: 'alpaca.tuneCancel',
} as const;

/** Notifications (server → client, and the client's active-document hint). */
export const Notification = {
    answer: 'alpaca/answer',
    related: 'alpaca/related',
    status: 'alpaca/status',
    activeDocument: 'alpaca/activeDocument',
    modelProgress: 'alpaca/modelProgress',
    tuneProgress: 'alpaca/tuneProgress',
} as const;

/** The `alpaca` settings section the server reads (initializationOptions / didChangeConfiguration). */
export interface ServerSettings {
    docsPaths: string[];
    indexPath: string;
    modelPath: string;
    endpointUrl: string;
    /** The model name sent to the endpoint ('' = the server's default). */
    endpointModel: string;
    /** The endpoint model's context size in tokens (0 = the server's default). */
    endpointContextSize: number;
    allowRemote: boolean;
    resultsCount: number;
    hover: boolean;
    /** Multi-root workspaces: each folder's own docsPaths (resolved by the server against that folder). */
    folders?: FolderSettings[];
}

export interface FolderSettings {
    path: string;
    docsPaths: string[];
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
    /** Where in the file: "lines 3-9", "p. 12" (PDF), "slide 4" (PowerPoint), "¶ 7" (Word). */
    place?: string;
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
    place?: string;
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
    /** A follow-up's standalone question, when retrieval searched for other words than were typed. */
    query?: string | null;
    /** Who rewrote the follow-up: the model, or the rule that carries the previous question's key terms. */
    rewrittenBy?: 'model' | 'rule' | null;
    conversationId?: string;
    /** One line on how far to trust the answer (claim check or why it was refused). */
    verdict?: string;
    /** Each sentence of a generated answer checked against the passage it cites. */
    grounding?: Grounding | null;
    /** The model's draft when no claim of it was supported (the answer is then a refusal). */
    withheld?: string | null;
    refusalReason?: 'retrieval' | 'model' | 'grounding' | null;
}

/** One earlier turn of a conversation, as `alpaca.ask` takes it in `history` (oldest first). */
export interface HistoryTurn {
    question: string;
    answer: string;
    query?: string;
}

/** `alpaca.ask` parameters: a question, and for a follow-up the conversation so far and/or selected text. */
export interface AskParams {
    question: string;
    requestId?: string;
    k?: number;
    conversationId?: string;
    history?: HistoryTurn[];
    /** Text the user selected in the editor: searched with the question and shown to the model. */
    context?: string;
}

export interface GroundingClaim {
    text: string;
    status: 'supported' | 'unsupported' | 'uncited';
    cites: number[];
    similarity?: number | null;
    missing: string[];
    evidence?: string | null;
    /** The source the check found backing it, when the model cited none (or one that doesn't back it). */
    attributed?: number | null;
    /** In the answer the reader sees (false: held back by the claim gate); absent before the gate existed. */
    shown?: boolean | null;
    /** The model's odds that the claim's evidence states it (a retry's check); null when not asked. */
    judged?: number | null;
}

export interface Grounding {
    verdict: string;
    supported: number;
    unsupported: number;
    uncited: number;
    attributed?: number;
    /** Why a shown answer whose sentences all check out is still suspect (the model looped or cited missing sources). */
    cautions?: string[];
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
    /** The embedding model: `tuned` when `alpaca tune` adapted it to these docs (with what it was trained on). */
    model_info?: ModelInfo;
    /** The index library's rule (big enough, packaged model): worth offering `alpaca tune`. */
    suggest_tune?: boolean;
    backend?: string;
    index_path?: string;
    egress?: string;
    message?: string;
    roots?: string[];
    /** The file extensions the index reads (alpaca_index.ingest.formats): the "Add Documents…" filter. */
    extensions?: string[];
}

export interface ModelInfo {
    tuned: boolean;
    /** When it was trained (a tuned model only), e.g. 2026-01-31T10:00:00+0100. */
    created?: string;
    pairs?: number;
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
