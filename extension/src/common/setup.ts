// When the server package is missing: say so and offer, with one click, a virtual environment in
// the extension's storage with the package installed (progress notification, pip output in the log).

import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { commands, ConfigurationTarget, ExtensionContext, ProgressLocation, window, workspace } from 'vscode';
import { ProbeResult, probeMessage } from '../core/interpreter';
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
            code === 0 ? resolve() : reject(new Error(`${path.basename(command)} ${args.join(' ')} exited with code ${code}`));
        });
    });
}

export function venvPython(dir: string): string {
    return process.platform === 'win32' ? path.join(dir, 'Scripts', 'python.exe') : path.join(dir, 'bin', 'python');
}

/** Creates `<globalStorage>/venv`, installs the server package, points alpaca.pythonPath at it. */
export async function createEnvironment(context: ExtensionContext, basePython: string): Promise<string | undefined> {
    const dir = path.join(context.globalStorageUri.fsPath, 'venv');
    const spec = installSource();
    try {
        return await window.withProgress(
            { location: ProgressLocation.Notification, title: 'Alpaca', cancellable: false },
            async (progress) => {
                fs.mkdirSync(context.globalStorageUri.fsPath, { recursive: true });
                progress.report({ message: `creating a Python environment in ${dir}…` });
                log.info(`creating venv: ${basePython} -m venv ${dir}`);
                await run(basePython, ['-m', 'venv', dir], (l) => log.info(`[venv] ${l}`));
                const python = venvPython(dir);
                progress.report({ message: `installing ${spec}…` });
                log.info(`installing: ${python} -m pip install ${spec}`);
                await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', spec], (l) => {
                    log.info(`[pip] ${l}`);
                    const m = /^(Collecting|Downloading|Installing|Successfully)\s+(.{0,60})/.exec(l.trim());
                    if (m) {
                        progress.report({ message: `${m[1].toLowerCase()} ${m[2]}` });
                    }
                });
                await workspace.getConfiguration(SECTION).update('pythonPath', python, ConfigurationTarget.Global);
                window.showInformationMessage(`Alpaca: installed ${spec} in ${dir}; alpaca.pythonPath now points there.`);
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
