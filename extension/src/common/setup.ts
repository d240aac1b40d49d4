// When the server package is missing: say so and offer, with one click, a virtual environment in
// the extension's storage with the package installed (progress notification, pip output in the log).
// The package is the wheel shipped in the .vsix, so no access to the project's repository is needed.

import { execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { commands, ConfigurationTarget, ExtensionContext, ProgressLocation, window, workspace } from 'vscode';
import { ProbeResult, probeMessage } from '../core/interpreter';
import { InstallInputs, installPlan, needsTorchScript, pipProgress } from '../core/models';
import { SECTION } from '../core/settings';
import { installSource } from './config';
import { log, showLog } from './log';

const INSTALL = 'Create Environment and Install';
const SETTINGS = 'Open Settings';
const LOG = 'Show Log';

function run(command: string, args: string[], onLine: (line: string) => void): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { windowsHide: true });
        let tail = '';
        const feed = (chunk: Buffer) => {
            const lines = (tail + chunk.toString()).split(/\r?\n/);
            tail = lines.pop() ?? '';
            lines.filter((l) => l.trim()).forEach(onLine);
        };
        child.stdout.on('data', feed);
        child.stderr.on('data', feed);
        child.on('error', reject);
        child.on('close', (code) => {
            if (tail.trim()) {
                onLine(tail);
            }
            if (code === 0) {
                resolve();
            } else {
                reject(new Error(`${path.basename(command)} ${args.join(' ')} exited with code ${code}`));
            }
        });
    });
}

export function venvPython(dir: string): string {
    return process.platform === 'win32' ? path.join(dir, 'Scripts', 'python.exe') : path.join(dir, 'bin', 'python');
}

/** The project's own wheel, shipped in the .vsix (`python/*.whl`, built by `npm run package`). */
export function bundledWheel(context: ExtensionContext): string | undefined {
    const dir = path.join(context.extensionPath, 'python');
    const wheels = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.whl')).sort() : [];
    return wheels.length ? path.join(dir, wheels[wheels.length - 1]) : undefined;
}

function runPython(python: string, script: string): Promise<string> {
    return new Promise((resolve) => {
        execFile(python, ['-c', script], { timeout: 30_000, windowsHide: true }, (err, stdout) => resolve(err ? '' : String(stdout).trim()));
    });
}

type Progress = { report(value: { message?: string }): void };

/** Runs the install plan's steps; a failed optional step is reported and skipped. Returns its failures. */
async function install(python: string, inputs: Omit<InstallInputs, 'needsTorch'>, progress: Progress): Promise<string[]> {
    const wheel = inputs.source.endsWith('.whl') && fs.existsSync(inputs.source);
    // the wheel's own metadata says whether torch is (still) required: after the switch to ONNX Runtime only the `tune` extra needs it
    const needsTorch = wheel ? (await runPython(python, needsTorchScript(inputs.source, inputs.extras))) === '1' : true;
    const skipped: string[] = [];
    for (const step of installPlan({ ...inputs, needsTorch })) {
        progress.report({ message: step.message });
        log.info(`pip: ${python} -m pip ${step.args.join(' ')}`);
        try {
            await run(python, ['-m', 'pip', ...step.args], (l) => {
                log.info(`[pip] ${l}`);
                const shown = pipProgress(l);
                if (shown) {
                    progress.report({ message: shown });
                }
            });
        } catch (err) {
            if (!step.optional) {
                throw err;
            }
            log.warn(`optional step failed: ${err}`);
            skipped.push(step.message.replace(/…$/, ''));
        }
    }
    return skipped;
}

function installInputs(context: ExtensionContext, extras: string[]): Omit<InstallInputs, 'needsTorch'> {
    const cfg = workspace.getConfiguration(SECTION);
    const source = installSource() || bundledWheel(context);
    if (!source) {
        throw new Error('this build of the extension carries no Python package; set alpaca.server.installSource to a wheel, a folder or a package name');
    }
    return {
        platform: process.platform,
        source,
        extras,
        torchIndex: cfg.get<string>('server.torchIndex') ?? '',
        llamaCppIndex: cfg.get<string>('server.llamaCppIndex') ?? '',
    };
}

const LLAMA_HELP = 'answers through Ollama or an OpenAI-compatible server still work; alpaca.server.llamaCppIndex can point at prebuilt wheels';

/**
 * Sets alpaca.pythonPath where its value comes from: a workspace value would hide a user-level one,
 * and the server would start again with the interpreter that lacks the package. Says where, if not the user's settings.
 */
async function pointPythonPathAt(python: string): Promise<string> {
    const cfg = workspace.getConfiguration(SECTION);
    const inWorkspace = cfg.inspect<string>('pythonPath')?.workspaceValue !== undefined;
    await cfg.update('pythonPath', python, inWorkspace ? ConfigurationTarget.Workspace : ConfigurationTarget.Global);
    return inWorkspace ? " (this workspace's setting)" : '';
}

/** Creates `<globalStorage>/venv`, installs the server package (with llama.cpp), points alpaca.pythonPath at it. */
export async function createEnvironment(context: ExtensionContext, basePython: string): Promise<string | undefined> {
    const dir = path.join(context.globalStorageUri.fsPath, 'venv');
    try {
        const inputs = installInputs(context, workspace.getConfiguration(SECTION).get<string[]>('server.extras') ?? ['llm']);
        return await window.withProgress(
            { location: ProgressLocation.Notification, title: 'Alpaca', cancellable: false },
            async (progress) => {
                fs.mkdirSync(context.globalStorageUri.fsPath, { recursive: true });
                progress.report({ message: `creating a Python environment in ${dir}…` });
                log.info(`creating venv: ${basePython} -m venv ${dir}`);
                await run(basePython, ['-m', 'venv', dir], (l) => log.info(`[venv] ${l}`));
                const python = venvPython(dir);
                const skipped = await install(python, inputs, progress);
                const where = await pointPythonPathAt(python);
                const note = skipped.length ? ` Not installed: ${skipped.join(', ')} (see the log); ${LLAMA_HELP}.` : '';
                window.showInformationMessage(`Alpaca: installed ${path.basename(inputs.source)} in ${dir}; alpaca.pythonPath${where} now points there.${note}`);
                return python;
            },
        );
    } catch (err) {
        log.error(`environment setup failed: ${err}`);
        const choice = await window.showErrorMessage(`Alpaca: could not set up the Python environment: ${err instanceof Error ? err.message : err}`, LOG, SETTINGS);
        if (choice === LOG) {
            showLog();
        } else if (choice === SETTINGS) {
            openSettings();
        }
        return undefined;
    }
}

/** Adds llama-cpp-python (the `llm` extra) to the server's environment, for a GGUF model. */
export async function installLlamaCpp(context: ExtensionContext, python: string): Promise<boolean> {
    try {
        const inputs = installInputs(context, ['llm']);
        const skipped = await window.withProgress(
            { location: ProgressLocation.Notification, title: 'Alpaca', cancellable: false },
            (progress) => install(python, inputs, progress),
        );
        if (skipped.length) {
            void window.showErrorMessage(`Alpaca: llama-cpp-python could not be installed (see the log); ${LLAMA_HELP}.`, LOG).then((c) => c && showLog());
            return false;
        }
        return true;
    } catch (err) {
        void window.showErrorMessage(`Alpaca: installing llama-cpp-python failed: ${err instanceof Error ? err.message : err}`, LOG).then((c) => c && showLog());
        return false;
    }
}

const API_KEY = 'alpaca.endpointApiKey';

/** The endpoint's API key: the editor's secret storage, else ALPACA_API_KEY in the editor's environment. */
export async function readApiKey(context: ExtensionContext): Promise<string | undefined> {
    try {
        return (await context.secrets.get(API_KEY)) || process.env.ALPACA_API_KEY || undefined;
    } catch {
        return process.env.ALPACA_API_KEY || undefined;
    }
}

export async function storeApiKey(context: ExtensionContext, key: string | undefined): Promise<void> {
    if (key) {
        await context.secrets.store(API_KEY, key);
    } else {
        await context.secrets.delete(API_KEY);
    }
}

export function openSettings(): void {
    void commands.executeCommand('workbench.action.openSettings', `@ext:alpaca.alpaca-docs`);
}

/**
 * Explains why the server cannot start. Resolves with a python path to retry with when the user
 * chose to install, else undefined. The message is not awaited by startup: the status bar shows the failure.
 */
export async function explainProblem(context: ExtensionContext, python: string, result: ProbeResult): Promise<string | undefined> {
    const message = probeMessage(python, result);
    log.error(message + (result.kind === 'no-server' && result.detail ? `\n${result.detail}` : ''));
    const actions = result.kind === 'no-server' ? [INSTALL, SETTINGS, LOG] : [SETTINGS, LOG];
    const text = result.kind === 'no-server' ? `${message} Create a virtual environment with it?` : message;
    const choice = await window.showErrorMessage(text, ...actions);
    if (choice === INSTALL) {
        return createEnvironment(context, python);
    }
    if (choice === SETTINGS) {
        openSettings();
    } else if (choice === LOG) {
        showLog();
    }
    return undefined;
}
