// The language client: resolve the interpreter, check the package, start `python -m alpaca_server`
// over stdio with vscode-languageclient, forward settings, expose requests and notifications.
// (The Python side's class is `AlpacaServer`; this is the editor's end of the connection.)

import { Disposable, EventEmitter, ExtensionContext, window, workspace } from 'vscode';
import {
    CloseAction,
    ErrorAction,
    ExecuteCommandRequest,
    LanguageClient,
    LanguageClientOptions,
    RevealOutputChannelOn,
    ServerOptions,
    State,
} from 'vscode-languageclient/node';
import { describeSource } from '../core/interpreter';
import { ModelProgress } from '../core/models';
import { AnswerMessage, Notification, RelatedNotification, SERVER_MODULE, ServerCommand, ServerSettings, ServerStatus } from '../core/protocol';
import { configurationPayload, sameSettings } from '../core/settings';
import { ClientState } from '../core/status';
import { TuneProgress } from '../core/tune';
import { readInterpreterSettings, readServerSettings, workspaceFolderPath } from './config';
import { getLog, log, showLog } from './log';
import { probe, resolveInterpreter } from './python';
import { explainProblem, readApiKey } from './setup';

export class ServerNotRunning extends Error {
    constructor(reason: string) {
        super(reason);
    }
}

export class AlpacaClient implements Disposable {
    private client: LanguageClient | undefined;
    private clientDisposables: Disposable[] = [];
    private starting: Promise<void> | undefined;
    private sentSettings: ServerSettings | undefined;
    private failure = '';
    state: ClientState = 'stopped';
    lastStatus: ServerStatus | undefined;
    python = '';

    private readonly stateEmitter = new EventEmitter<ClientState>();
    private readonly statusEmitter = new EventEmitter<ServerStatus>();
    private readonly answerEmitter = new EventEmitter<AnswerMessage>();
    private readonly relatedEmitter = new EventEmitter<RelatedNotification>();
    private readonly modelProgressEmitter = new EventEmitter<ModelProgress>();
    private readonly tuneProgressEmitter = new EventEmitter<TuneProgress>();
    readonly onDidChangeState = this.stateEmitter.event;
    readonly onStatus = this.statusEmitter.event;
    readonly onAnswer = this.answerEmitter.event;
    readonly onRelated = this.relatedEmitter.event;
    readonly onModelProgress = this.modelProgressEmitter.event;
    readonly onTuneProgress = this.tuneProgressEmitter.event;

    constructor(private readonly context: ExtensionContext) {}

    get running(): boolean {
        return this.state === 'running' && this.client !== undefined;
    }

    get failureReason(): string {
        return this.failure;
    }

    private setState(state: ClientState): void {
        this.state = state;
        this.stateEmitter.fire(state);
    }

    /** Starts (or restarts) the server; concurrent calls share one start. */
    async restart(): Promise<void> {
        if (this.starting) {
            await this.starting;
        }
        this.starting = this.doRestart().finally(() => (this.starting = undefined));
        return this.starting;
    }

    private async doRestart(): Promise<void> {
        await this.stopClient();
        this.setState('starting');
        const choice = await resolveInterpreter(readInterpreterSettings(this.context), workspace.workspaceFolders?.[0]?.uri);
        this.python = choice.command;
        log.info(`Python: ${choice.command} (from ${describeSource(choice.source)})`);
        const result = await probe(choice.command);
        if (result.kind !== 'ok') {
            this.failure = result.kind === 'no-server' ? `alpaca-docs is not installed for ${choice.command}` : `no usable Python at ${choice.command}`;
            this.setState('failed');
            // Not awaited: the status bar already shows the failure; the message offers the fix. A new
            // interpreter reaches alpaca.pythonPath, whose change restarts the server (extension.ts):
            // restarting here too would start it twice. The same one, reinstalled, changes no setting.
            void explainProblem(this.context, choice.command, result).then((python) => {
                if (python && python === choice.command) {
                    void this.restart();
                }
            });
            return;
        }
        log.info(`Python ${result.version}; starting ${choice.command} -m ${SERVER_MODULE}`);
        await this.startClient(choice.command);
    }

    private async startClient(python: string): Promise<void> {
        const settings = readServerSettings(this.context);
        // the endpoint's API key lives in the editor's secret storage and reaches the server only
        // through its environment: never in settings payloads, which are logged
        const apiKey = await readApiKey(this.context);
        const serverOptions: ServerOptions = {
            command: python,
            args: ['-m', SERVER_MODULE],
            options: { cwd: workspaceFolderPath(), env: { ...process.env, PYTHONUNBUFFERED: '1', ...(apiKey ? { ALPACA_API_KEY: apiKey } : {}) } },
        };
        const clientOptions: LanguageClientOptions = {
            documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
            outputChannel: getLog(),
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationOptions: configurationPayload(settings),
            initializationFailedHandler: (error) => {
                log.error(`initialize failed: ${error}`);
                return false;
            },
            errorHandler: {
                error: () => ({ action: ErrorAction.Continue }),
                closed: () => {
                    log.error('the server process exited');
                    this.failure = 'the server process exited (see the Alpaca log)';
                    this.setState('failed');
                    return { action: CloseAction.DoNotRestart, handled: true };
                },
            },
        };
        const client = new LanguageClient('alpaca', 'Alpaca Docs Server', serverOptions, clientOptions);
        this.client = client;
        this.clientDisposables.push(
            client.onNotification(Notification.status, (s: ServerStatus) => {
                this.lastStatus = s;
                this.statusEmitter.fire(s);
            }),
            client.onNotification(Notification.answer, (m: AnswerMessage) => this.answerEmitter.fire(m)),
            client.onNotification(Notification.related, (m: RelatedNotification) => this.relatedEmitter.fire(m)),
            client.onNotification(Notification.modelProgress, (m: ModelProgress) => this.modelProgressEmitter.fire(m)),
            client.onNotification(Notification.tuneProgress, (m: TuneProgress) => this.tuneProgressEmitter.fire(m)),
            client.onDidChangeState((e) => {
                if (e.newState === State.Stopped && this.client === client && this.state === 'running') {
                    this.setState('stopped');
                }
            }),
        );
        try {
            await client.start();
        } catch (err) {
            this.failure = `the server did not start: ${err instanceof Error ? err.message : err}`;
            log.error(this.failure);
            this.setState('failed');
            void window.showErrorMessage(`Alpaca: ${this.failure}`, 'Show Log').then((c) => c && showLog());
            return;
        }
        this.sentSettings = settings;
        this.failure = '';
        this.setState('running');
        // The first status (later ones are pushed). Not awaited: `request` waits for the start to finish.
        client
            .sendRequest(ExecuteCommandRequest.type, { command: ServerCommand.status, arguments: [{}] })
            .then((status: ServerStatus | undefined) => {
                if (status && !this.lastStatus && this.client === client) {
                    this.lastStatus = status;
                    this.statusEmitter.fire(status);
                }
            })
            .catch((err) => log.warn(`status request failed: ${err}`));
    }

    /** Sends changed settings with workspace/didChangeConfiguration. */
    async updateSettings(): Promise<void> {
        const settings = readServerSettings(this.context);
        if (!this.running || sameSettings(this.sentSettings, settings)) {
            return;
        }
        this.sentSettings = settings;
        log.info('settings changed; reconfiguring the server');
        await this.client!.sendNotification('workspace/didChangeConfiguration', { settings: configurationPayload(settings) });
    }

    async request<T>(command: string, params: object): Promise<T> {
        if (this.starting) {
            await this.starting;
        }
        if (!this.running) {
            throw new ServerNotRunning(this.failure || 'the Alpaca server is not running');
        }
        return (await this.client!.sendRequest(ExecuteCommandRequest.type, { command, arguments: [params] })) as T;
    }

    notify(method: string, params: object): void {
        if (this.running) {
            void this.client!.sendNotification(method, params).catch((err) => log.debug(`${method}: ${err}`));
        }
    }

    private async stopClient(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        this.clientDisposables.forEach((d) => d.dispose());
        this.clientDisposables = [];
        this.lastStatus = undefined;
        if (client) {
            try {
                await client.stop(5000);
            } catch (err) {
                log.warn(`stopping the server: ${err}`);
            }
        }
    }

    async stop(): Promise<void> {
        await this.stopClient();
        this.setState('stopped');
    }

    dispose(): void {
        void this.stopClient();
        this.stateEmitter.dispose();
        this.statusEmitter.dispose();
        this.answerEmitter.dispose();
        this.relatedEmitter.dispose();
        this.modelProgressEmitter.dispose();
        this.tuneProgressEmitter.dispose();
    }
}
