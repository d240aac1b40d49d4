// `@alpaca` in the editor's chat view, where the editor has the Chat API (VS Code 1.90+ with a
// chat view): the same `alpaca.ask` over the same server, the chat's earlier `@alpaca` turns sent
// as history, sources as references. Where the API is missing (older editors, code-server without
// chat) this registers nothing; the answer panel stays the default either way.

import * as vscode from 'vscode';
import { Disposable, Location, Position, Uri } from 'vscode';
import { AnswerFinal, AnswerMessage, AskParams, ServerCommand } from '../core/protocol';
import { ChatTurnLike, historyFromChat } from '../core/thread';
import { log } from '../common/log';
import { AlpacaClient } from '../common/client';

export const PARTICIPANT_ID = 'alpaca.docs';

// The slice of the Chat API used here (its types are newer than @types/vscode at our engine floor).
interface ChatStream {
    markdown(value: string): void;
    progress?(value: string): void;
    reference?(value: Uri | Location): void;
}
interface ChatRequestLike {
    prompt: string;
}
interface ChatApi {
    createChatParticipant(
        id: string,
        handler: (request: ChatRequestLike, context: { history: readonly ChatTurnLike[] }, stream: ChatStream, token: vscode.CancellationToken) => Promise<unknown>,
    ): Disposable & { iconPath?: Uri };
}

let counter = 0;

export function registerChatParticipant(context: vscode.ExtensionContext, server: AlpacaClient): Disposable | undefined {
    const chat = (vscode as unknown as { chat?: Partial<ChatApi> }).chat;
    if (typeof chat?.createChatParticipant !== 'function') {
        log.info('no Chat API in this editor: @alpaca is not registered (the answer panel works as always)');
        return undefined;
    }
    try {
        const participant = chat.createChatParticipant(PARTICIPANT_ID, (request, ctx, stream, token) => answer(server, request, ctx.history, stream, token));
        participant.iconPath = Uri.joinPath(context.extensionUri, 'media', 'alpaca.svg');
        return participant;
    } catch (err) {
        log.warn(`@alpaca chat participant not registered: ${err}`);
        return undefined;
    }
}

async function answer(server: AlpacaClient, request: ChatRequestLike, history: readonly ChatTurnLike[], stream: ChatStream, token: vscode.CancellationToken): Promise<unknown> {
    const requestId = `chat-${Date.now().toString(36)}-${++counter}`;
    const params: AskParams = { question: request.prompt, requestId, history: historyFromChat(history, PARTICIPANT_ID) };
    stream.progress?.('Searching your docs…');
    let streamed = false;
    const final = await new Promise<AnswerFinal | undefined>((resolve) => {
        const subscriptions: Disposable[] = [];
        const done = (value: AnswerFinal | undefined) => {
            subscriptions.forEach((d) => d.dispose());
            resolve(value);
        };
        subscriptions.push(
            server.onAnswer((m: AnswerMessage) => {
                if (m.requestId !== requestId) {
                    return;
                }
                if (m.kind === 'partial') {
                    streamed = streamed || !!m.text;
                    stream.markdown(m.text);
                } else if (m.kind === 'final') {
                    done(m);
                }
            }),
            token.onCancellationRequested(() => void server.request(ServerCommand.cancel, { requestId }).catch(() => undefined)),
        );
        server.request(ServerCommand.ask, params).catch((err) => {
            stream.markdown(`Alpaca could not answer: ${err instanceof Error ? err.message : err}`);
            done(undefined);
        });
    });
    if (!final) {
        return {};
    }
    if (!streamed && final.answer) {  // a withheld draft never streams: its quoted passages are the reply
        stream.markdown(final.answer);
    }
    if (final.error) {
        stream.markdown(`\n\nAlpaca could not answer: ${final.error}`);
    }
    if (final.verdict) {
        stream.markdown(`\n\n**Check:** ${final.verdict}`);
    } else if (final.notice) {
        stream.markdown(`\n\n*${final.notice}*`);
    }
    for (const s of final.sources ?? []) {
        if (s.uri) {
            stream.reference?.(new Location(Uri.parse(s.uri), new Position(Math.max(0, s.start_line - 1), 0)));
        }
    }
    return { metadata: { query: final.query ?? undefined } };
}
