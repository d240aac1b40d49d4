// "Alpaca: Adapt Search to These Docs" and "Alpaca: Use the Packaged Search Model": the server adapts the
// index's search model (alpaca.tune, the same work as `alpaca tune`) under a cancellable withProgress fed by
// `alpaca/tuneProgress`; cancelling stops it before the switch, so search keeps the model it had.

import { CancellationToken, commands, Disposable, Memento, ProgressLocation, window } from 'vscode';
import { ServerCommand, ServerStatus } from '../core/protocol';
import {
    describeTuneTime, shouldSuggestTune, TuneProgress, TuneProgressTracker, tuneConfirmation, TuneOutcome, tuneOutcome,
    tuneRefusal, tuneSuggestion,
} from '../core/tune';
import { AlpacaClient } from '../common/client';
import { log, showLog } from '../common/log';

export const ADAPT_SEARCH_COMMAND = 'alpaca.adaptSearch';
export const PACKAGED_MODEL_COMMAND = 'alpaca.usePackagedSearchModel';

async function freshStatus(server: AlpacaClient): Promise<ServerStatus | undefined> {
    try {
        return await server.request<ServerStatus>(ServerCommand.status, {});
    } catch (err) {
        log.warn(`status: ${err}`);
        return server.lastStatus;
    }
}

/** The status when the index can be tuned; otherwise the user is told why and it is undefined. */
async function tunableStatus(server: AlpacaClient): Promise<ServerStatus | undefined> {
    const status = await freshStatus(server);
    const refusal = tuneRefusal(status);
    if (refusal || !status) {
        void window.showWarningMessage(`Alpaca: ${refusal}`);
        return undefined;
    }
    return status;
}

async function adaptSearch(server: AlpacaClient): Promise<void> {
    const status = await tunableStatus(server);
    if (!status) {
        return;
    }
    const ADAPT = 'Adapt Search';
    if ((await window.showInformationMessage(tuneConfirmation(status), { modal: true }, ADAPT)) !== ADAPT) {
        return;
    }
    const final = await follow(server, 'Alpaca: adapting search to these docs', false);
    if (final) {
        const BACK = 'Use the Packaged Search Model';
        const choice = await show(tuneOutcome(final), final.report ? [BACK] : []);
        if (choice === BACK) {
            await commands.executeCommand(PACKAGED_MODEL_COMMAND);
        }
    }
}

async function usePackagedModel(server: AlpacaClient): Promise<void> {
    const status = await tunableStatus(server);
    if (!status) {
        return;
    }
    if (!status.model_info?.tuned) {
        void window.showInformationMessage(`Alpaca: search already uses the packaged model (${status.model ?? 'MiniLM'}).`);
        return;
    }
    const BACK = 'Use the Packaged Model';
    const question =
        `Go back to the packaged search model? The model adapted to these docs${status.model_info.created ? ` on ${status.model_info.created.slice(0, 10)}` : ''} ` +
        `is deleted; adapting again takes ${describeTuneTime(status.chunks)}.`;
    if ((await window.showInformationMessage(question, { modal: true }, BACK)) !== BACK) {
        return;
    }
    const final = await follow(server, 'Alpaca: going back to the packaged search model', true);
    if (final) {
        await show(tuneOutcome(final, true), []);
    }
}

/** Starts a run on the server and follows it to its final message (undefined if the server refused it). */
function follow(server: AlpacaClient, title: string, revert: boolean): Promise<TuneProgress | undefined> {
    return Promise.resolve(
        window.withProgress({ location: ProgressLocation.Notification, title, cancellable: true }, async (progress, token: CancellationToken) => {
            const requestId = `tune-${Date.now().toString(36)}`;
            const tracker = new TuneProgressTracker(revert);
            const subscriptions: Disposable[] = [];
            const final = new Promise<TuneProgress>((resolve) => {
                subscriptions.push(
                    server.onTuneProgress((m) => {
                        if (m.requestId !== requestId) {
                            return;
                        }
                        if (m.kind === 'final') {
                            resolve(m);
                        } else {
                            progress.report(tracker.step(m));
                        }
                    }),
                    // a server that stops mid-run never sends the final message; it left the previous model in use
                    server.onDidChangeState((state) => state !== 'running' && resolve({ requestId, kind: 'final', error: 'the Alpaca server stopped' })),
                );
            });
            token.onCancellationRequested(() => void server.request(ServerCommand.tuneCancel, { requestId }).catch(() => undefined));
            try {
                await server.request(ServerCommand.tune, { requestId, ...(revert ? { revert: true } : {}) });
                return await final;
            } catch (err) {
                const message = err instanceof Error ? err.message : String(err);
                log.error(`tune: ${message}`);
                void window.showErrorMessage(`Alpaca: ${message}`, 'Show Log').then((c) => c && showLog());
                return undefined;
            } finally {
                subscriptions.forEach((d) => d.dispose());
            }
        }),
    );
}

async function show({ level, text }: TuneOutcome, actions: string[]): Promise<string | undefined> {
    if (level === 'error') {
        const choice = await window.showErrorMessage(text, ...actions, 'Show Log');
        if (choice === 'Show Log') {
            showLog();
        }
        return choice;
    }
    return level === 'warning' ? window.showWarningMessage(text, ...actions) : window.showInformationMessage(text, ...actions);
}

const DECLINED_KEY = 'alpaca.adaptSearchDeclined';

/** One offer per window once a big index is ready on the packaged model; "Don't Ask Again" is kept
 * for the workspace. */
function suggestWhenReady(server: AlpacaClient, workspace: Memento): Disposable {
    let offered = false;
    return server.onStatus((status) => {
        if (offered || !shouldSuggestTune(status, workspace.get<boolean>(DECLINED_KEY, false))) {
            return;
        }
        offered = true;
        const ADAPT = 'Adapt Search…';
        const NEVER = "Don't Ask Again";
        void window.showInformationMessage(tuneSuggestion(status), ADAPT, 'Not Now', NEVER).then(async (choice) => {
            if (choice === ADAPT) {
                await commands.executeCommand(ADAPT_SEARCH_COMMAND);
            } else if (choice === NEVER) {
                await workspace.update(DECLINED_KEY, true);
            }
        });
    });
}

export function registerTuneCommands(server: AlpacaClient, workspace: Memento): Disposable[] {
    return [
        commands.registerCommand(ADAPT_SEARCH_COMMAND, () => adaptSearch(server)),
        commands.registerCommand(PACKAGED_MODEL_COMMAND, () => usePackagedModel(server)),
        suggestWhenReady(server, workspace),
    ];
}
