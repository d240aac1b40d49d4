// "Alpaca: Set Up Answer Model": download Mistral 7B or another hub model (size and destination shown
// first), use Ollama, use an OpenAI-compatible server, or choose a GGUF file. The server does the work (alpaca.models.*);
// downloads run under a cancellable withProgress fed by `alpaca/modelProgress`. The choice is saved in
// the settings (alpaca.modelPath / endpointUrl / endpointModel) and in the user config file the CLI reads.

import * as fs from 'fs';
import * as path from 'path';
import { CancellationToken, commands, ConfigurationTarget, Disposable, ExtensionContext, ProgressLocation, QuickPickItem, window, workspace } from 'vscode';
import { humanSize, isGguf, ModelProgress, ModelSpec, ModelsStatus, parseModelSpec, ProgressTracker, RemoteModel } from '../core/models';
import { AnswerMessage } from '../core/protocol';
import { SECTION } from '../core/settings';
import { log, showLog } from '../common/log';
import { AlpacaClient } from '../common/client';
import { installLlamaCpp, readApiKey, storeApiKey } from '../common/setup';

export const SET_UP_MODEL_COMMAND = 'alpaca.setUpModel';
export const SET_API_KEY_COMMAND = 'alpaca.setEndpointApiKey';
const TITLE = 'Alpaca: Set Up Answer Model';

type Choice = QuickPickItem & { action: 'download' | 'hub' | 'ollama' | 'endpoint' | 'file' | 'none' };
/** A hub file's size and destination, or why the hub could not say. */
type Described = { remote: RemoteModel; error?: undefined } | { remote?: undefined; error: string };

class ModelSetup {
    private offered = false;

    constructor(private readonly context: ExtensionContext, private readonly server: AlpacaClient) {}

    /** Offered once per session when an answer came without a model. */
    onAnswer(message: AnswerMessage): void {
        if (message.kind !== 'final' || !message.noModel || message.cancelled || this.offered) {
            return;
        }
        this.offered = true;
        void window
            .showInformationMessage('Alpaca: no answer model is set up, so answers quote the best passages. Set one up?', 'Set Up Answer Model')
            .then((choice) => choice && this.run());
    }

    async run(): Promise<void> {
        let status: ModelsStatus;
        try {
            status = await this.server.request<ModelsStatus>('alpaca.models.status', {});
        } catch (err) {
            return this.fail('the Alpaca server is needed to set up a model', err);
        }
        const choice = await this.pick(status);
        try {
            switch (choice?.action) {
                case 'download':
                    return await this.download(status);
                case 'hub':
                    return await this.downloadOther(status);
                case 'ollama':
                    return await this.ollama(status);
                case 'endpoint':
                    return await this.endpoint();
                case 'file':
                    return await this.chooseFile(status);
                case 'none':
                    await this.server.request('alpaca.models.use', { none: true });
                    await this.save({ modelPath: '', endpointUrl: '', endpointModel: '' });
                    window.showInformationMessage('Alpaca: no answer model; answers quote the best passages.');
            }
        } catch (err) {
            await this.fail('setting up the model failed', err);
        }
    }

    private pick(status: ModelsStatus): Promise<Choice | undefined> {
        const downloaded = status.downloaded.find((m) => m.complete && m.name === status.default.file);
        const current = status.answer.modelPath || (status.answer.endpoint ? `${status.answer.endpointModel} at ${status.answer.endpoint}` : 'none (quoted passages)');
        const download: Choice = {
            action: 'download',
            label: `$(cloud-download) ${downloaded ? 'Use' : 'Download'} Mistral 7B Instruct (Q4_K_M)`,
            description: downloaded ? humanSize(downloaded.size) : 'asking the hub for its size…',
            detail: downloaded ? downloaded.path : `into ${status.modelsDir}`,
        };
        const others = (status.catalog ?? []).filter((m) => m.name !== status.default.name).map((m) => m.name);
        const ollama = status.ollama;
        const items: Choice[] = [
            download,
            {
                action: 'hub',
                label: '$(cloud-download) Download another model from the hub…',
                detail: `${others.length ? `${others.join(', ')} (smaller), or ` : ''}a repository and its .gguf file`,
            },
            {
                action: 'ollama',
                label: '$(server-process) Use Ollama',
                description: ollama.running ? `running at ${ollama.host}, ${ollama.models.length} model(s)` : `not running at ${ollama.host}`,
                detail: 'pull a model or pick one; answers go through its local API',
            },
            { action: 'endpoint', label: '$(globe) Use an OpenAI-compatible server', detail: "llama.cpp's llama-server, vLLM, LM Studio… (a remote one also needs alpaca.allowRemote)" },
            { action: 'file', label: '$(file) Choose a GGUF file…', detail: 'a model you already have, run in-process by llama.cpp' },
            { action: 'none', label: '$(circle-slash) No model', detail: 'answers quote the best passages' },
        ];
        const quickPick = window.createQuickPick<Choice>();
        quickPick.title = TITLE;
        quickPick.placeholder = `Answers use: ${current}`;
        quickPick.items = items;
        quickPick.ignoreFocusOut = true;
        if (!downloaded) {
            quickPick.busy = true;
            void this.describe({}).then(({ remote, error }) => {
                download.description = remote ? humanSize(remote.size) : 'size unknown';
                download.detail = remote ? `into ${remote.path}` : error;
                quickPick.items = [...items];
                quickPick.busy = false;
            });
        }
        return new Promise((resolve) => {
            quickPick.onDidAccept(() => {
                resolve(quickPick.selectedItems[0]);
                quickPick.hide();
            });
            quickPick.onDidHide(() => {
                resolve(undefined);
                quickPick.dispose();
            });
            quickPick.show();
        });
    }

    private async describe(spec: ModelSpec | Record<string, never>): Promise<Described> {
        try {
            return { remote: await this.server.request<RemoteModel>('alpaca.models.describe', spec) };
        } catch (err) {
            const error = err instanceof Error ? err.message : String(err);
            log.warn(`model size: ${error}`);
            return { error };
        }
    }

    /** A catalog name or REPO FILE typed by the user (as `alpaca model pull` takes them), then the same download. */
    private async downloadOther(status: ModelsStatus): Promise<void> {
        const names = (status.catalog ?? []).map((m) => m.name);
        const text = await window.showInputBox({
            title: `${TITLE}: download from the hub`,
            prompt: `A model name (${names.join(', ')}) or a hub repository and a .gguf file in it`,
            placeHolder: 'owner/repo file.gguf',
            ignoreFocusOut: true,
            validateInput: (v) => {
                const spec = v.trim() ? parseModelSpec(v, names) : undefined;
                return typeof spec === 'string' ? spec : undefined;
            },
        });
        if (!text?.trim()) {
            return;
        }
        const spec = parseModelSpec(text, names);
        if (typeof spec === 'string') {
            throw new Error(spec);
        }
        await this.download(status, spec);
    }

    /** The default model (`spec` omitted) or the given one: size and destination confirmed, then downloaded and used. */
    private async download(status: ModelsStatus, spec?: ModelSpec): Promise<void> {
        const wanted = !spec ? status.default : 'name' in spec ? status.catalog?.find((m) => m.name === spec.name) : spec;
        const have = status.downloaded.find((m) => m.complete && wanted && m.name === wanted.file && m.repo === wanted.repo);
        let file = have?.path;
        if (!file) {
            const { remote, error } = await this.describe(spec ?? {});
            if (!remote) {
                throw new Error(`cannot download the model: ${error}`);
            }
            const go = await window.showInformationMessage(
                `Download ${remote.file} (${humanSize(remote.size)}) to ${path.dirname(remote.path)}? An interrupted download resumes next time.`,
                { modal: true },
                'Download',
            );
            if (go !== 'Download') {
                return;
            }
            const done = await this.follow(`downloading ${remote.file}`, 'alpaca.models.pull', spec ?? {});
            if (!done?.path) {
                return;
            }
            file = done.path;
        }
        await this.useGguf(file, status);
    }

    private async useGguf(file: string, status: ModelsStatus): Promise<void> {
        await this.server.request('alpaca.models.use', { modelPath: file });
        await this.save({ modelPath: file, endpointUrl: '', endpointModel: '' });
        if (!status.llamaCpp) {
            const install = await window.showWarningMessage(
                `Alpaca: ${path.basename(file)} is set up, but the server's Python lacks llama-cpp-python, which runs GGUF models. Install it now?`,
                'Install llama-cpp-python',
            );
            if (install && (await installLlamaCpp(this.context, this.server.python))) {
                await this.server.restart();
            }
            return;
        }
        window.showInformationMessage(`Alpaca: answers are written by ${path.basename(file)} (local, in-process).`);
    }

    private async ollama(status: ModelsStatus): Promise<void> {
        if (!status.ollama.running) {
            throw new Error(`no Ollama answers at ${status.ollama.host}: install it from ollama.com and start it (or set OLLAMA_HOST), then try again`);
        }
        const PULL = '$(cloud-download) Pull a model…';
        const items: QuickPickItem[] = [
            ...status.ollama.models.map((m) => ({ label: m.name, description: [m.parameters, humanSize(m.size)].filter(Boolean).join(' · ') })),
            { label: PULL, detail: 'e.g. mistral (4.1 GB), llama3.2 (2.0 GB)' },
        ];
        const picked = await window.showQuickPick(items, { title: `${TITLE}: Ollama at ${status.ollama.host}`, ignoreFocusOut: true });
        if (!picked) {
            return;
        }
        let model = picked.label;
        if (model === PULL) {
            const name = await window.showInputBox({ title: `${TITLE}: pull with Ollama`, prompt: 'Model name in the Ollama library', value: 'mistral', ignoreFocusOut: true });
            if (!name?.trim()) {
                return;
            }
            const done = await this.follow(`Ollama is pulling ${name.trim()}`, 'alpaca.models.ollamaPull', { model: name.trim() });
            if (!done?.model) {
                return;
            }
            model = done.model;
        }
        await this.server.request('alpaca.models.use', { ollama: model });
        await this.save({ modelPath: '', endpointUrl: `${status.ollama.host.replace(/\/$/, '')}/v1`, endpointModel: model });
        window.showInformationMessage(`Alpaca: answers are written by ${model} through Ollama at ${status.ollama.host}.`);
    }

    private async endpoint(): Promise<void> {
        const cfg = workspace.getConfiguration(SECTION);
        const url = await window.showInputBox({
            title: `${TITLE}: OpenAI-compatible server`,
            prompt: 'Base URL of the server (…/v1)',
            value: cfg.get<string>('endpointUrl') || 'http://127.0.0.1:8080/v1',
            ignoreFocusOut: true,
            validateInput: (v) => (/^https?:\/\/[^/\s]+/.test(v.trim()) ? undefined : 'an http(s) URL, e.g. http://127.0.0.1:8080/v1'),
        });
        if (!url) {
            return;
        }
        const model = await window.showInputBox({ title: `${TITLE}: model name`, prompt: 'The model name the server expects', value: cfg.get<string>('endpointModel') || 'mistral', ignoreFocusOut: true });
        if (model === undefined) {
            return;
        }
        const context = await window.showInputBox({
            title: `${TITLE}: context size`,
            prompt: "The model's context size in tokens (empty: 2048); passages are packed to fit",
            value: String(cfg.get<number>('endpointContextSize') || ''),
            ignoreFocusOut: true,
            validateInput: (v) => (!v.trim() || (/^\d+$/.test(v.trim()) && Number(v) >= 512) ? undefined : 'a whole number ≥ 512, or empty'),
        });
        if (context === undefined) {
            return;
        }
        const hadKey = Boolean(await readApiKey(this.context));
        const key = await window.showInputBox({
            title: `${TITLE}: API key`,
            prompt: hadKey ? 'API key (kept in the editor’s secret storage; empty keeps the current one)' : 'API key, if the server needs one (kept in the editor’s secret storage)',
            password: true,
            ignoreFocusOut: true,
        });
        if (key === undefined) {
            return;
        }
        const contextSize = context.trim() ? Number(context.trim()) : 0;
        await this.server.request('alpaca.models.use', { endpoint: url.trim(), endpointModel: model.trim() || 'mistral', ...(contextSize ? { contextSize } : {}) });
        await this.save({ modelPath: '', endpointUrl: url.trim(), endpointModel: model.trim(), endpointContextSize: contextSize });
        if (key) {
            await storeApiKey(this.context, key);
            await this.server.restart(); // the key reaches the server through its environment only
        }
        const local = /^https?:\/\/(localhost|127\.|\[::1\])/.test(url.trim());
        if (!local && !cfg.get<boolean>('allowRemote')) {
            window.showWarningMessage('Alpaca: this server is not on this machine; answers stay passages-only until alpaca.allowRemote is on (documents would leave the machine).');
            return;
        }
        window.showInformationMessage(`Alpaca: answers are written by ${model.trim() || 'mistral'} at ${url.trim()}.`);
    }

    private async chooseFile(status: ModelsStatus): Promise<void> {
        const picked = await window.showOpenDialog({ title: TITLE, canSelectMany: false, filters: { 'GGUF models': ['gguf'], 'All files': ['*'] } });
        const file = picked?.[0]?.fsPath;
        if (!file) {
            return;
        }
        const head = Buffer.alloc(4);
        const fd = fs.openSync(file, 'r');
        try {
            fs.readSync(fd, head, 0, 4, 0);
        } finally {
            fs.closeSync(fd);
        }
        if (!isGguf(head)) {
            throw new Error(`${path.basename(file)} is not a GGUF model file (llama.cpp runs .gguf files, e.g. mistral-7b-instruct-v0.2.Q4_K_M.gguf)`);
        }
        await this.useGguf(file, status);
    }

    /** Starts a server-side download and follows it until its final message; cancel stops it (a hub download resumes later). */
    private follow(title: string, command: string, params: object): Promise<ModelProgress | undefined> {
        return Promise.resolve(
            window.withProgress({ location: ProgressLocation.Notification, title: `Alpaca: ${title}`, cancellable: true }, async (progress, token: CancellationToken) => {
                const requestId = `model-${Date.now().toString(36)}`;
                const tracker = new ProgressTracker();
                const final = new Promise<ModelProgress>((resolve) => {
                    const sub = this.server.onModelProgress((m) => {
                        if (m.requestId !== requestId) {
                            return;
                        }
                        if (m.kind === 'final') {
                            sub.dispose();
                            resolve(m);
                        } else {
                            progress.report(tracker.step(m.done ?? 0, m.total, m.status));
                        }
                    });
                });
                token.onCancellationRequested(() => void this.server.request('alpaca.models.cancel', { requestId }).catch(() => undefined));
                await this.server.request(command, { ...params, requestId });
                const done = await final;
                if (done.error) {
                    void window.showErrorMessage(`Alpaca: ${done.error}`, 'Show Log').then((c) => c && showLog());
                    return undefined;
                }
                if (done.cancelled) {
                    window.showInformationMessage('Alpaca: download stopped; the part already downloaded is kept and the next attempt resumes it.');
                    return undefined;
                }
                return done;
            }),
        );
    }

    private async save(values: Record<string, string | number>): Promise<void> {
        const cfg = workspace.getConfiguration(SECTION);
        for (const [key, value] of Object.entries(values)) {
            await cfg.update(key, value === '' || value === 0 ? undefined : value, ConfigurationTarget.Global);
        }
    }

    private async fail(what: string, err: unknown): Promise<void> {
        const message = err instanceof Error ? err.message : String(err);
        log.error(`${what}: ${message}`);
        const choice = await window.showErrorMessage(`Alpaca: ${what}: ${message}`, 'Show Log');
        if (choice) {
            showLog();
        }
    }
}

export function registerModelSetup(context: ExtensionContext, server: AlpacaClient): Disposable[] {
    const setup = new ModelSetup(context, server);
    return [
        commands.registerCommand(SET_UP_MODEL_COMMAND, () => setup.run()),
        commands.registerCommand(SET_API_KEY_COMMAND, async () => {
            const key = await window.showInputBox({ title: 'Alpaca: Endpoint API Key', prompt: 'Kept in the editor’s secret storage; empty removes it', password: true, ignoreFocusOut: true });
            if (key !== undefined) {
                await storeApiKey(context, key.trim() || undefined);
                await server.restart();
            }
        }),
        server.onAnswer((m) => setup.onAnswer(m)),
    ];
}
