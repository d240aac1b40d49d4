// Python interpreter resolution: alpaca.pythonPath, else the Python extension's active
// interpreter (when ms-python.python is installed), else python3 on PATH.

import { execFile } from 'child_process';
import { Disposable, Event, EventEmitter, extensions, Uri } from 'vscode';
import { chooseInterpreter, InterpreterChoice, parseProbe, PROBE_SCRIPT, ProbeResult } from '../core/interpreter';
import { log } from './log';

/** The part of the Python extension's API we use (see @vscode/python-extension). */
interface PythonExtensionApi {
    environments?: {
        getActiveEnvironmentPath(resource?: Uri): { path: string };
        resolveEnvironment(env: { path: string } | string): Promise<{ executable: { uri?: Uri } } | undefined>;
        onDidChangeActiveEnvironmentPath: Event<unknown>;
    };
}

const PYTHON_EXTENSION_ID = 'ms-python.python';
const changed = new EventEmitter<void>();
export const onDidChangePythonInterpreter = changed.event;

async function pythonExtensionApi(): Promise<PythonExtensionApi | undefined> {
    const ext = extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
    if (!ext) {
        return undefined;
    }
    try {
        return ext.isActive ? ext.exports : await ext.activate();
    } catch (err) {
        log.warn(`Python extension did not activate: ${err}`);
        return undefined;
    }
}

export async function watchPythonExtension(disposables: Disposable[]): Promise<void> {
    const api = await pythonExtensionApi();
    const envs = api?.environments;
    if (envs) {
        disposables.push(envs.onDidChangeActiveEnvironmentPath(() => changed.fire()));
    }
}

async function pythonExtensionInterpreter(resource?: Uri): Promise<string | undefined> {
    const envs = (await pythonExtensionApi())?.environments;
    if (!envs) {
        return undefined;
    }
    try {
        const active = envs.getActiveEnvironmentPath(resource);
        const resolved = await envs.resolveEnvironment(active);
        return resolved?.executable.uri?.fsPath ?? active.path;
    } catch (err) {
        log.warn(`could not read the Python extension's interpreter: ${err}`);
        return undefined;
    }
}

export async function resolveInterpreter(settings: { setting?: string; aliasSetting?: string }, resource?: Uri): Promise<InterpreterChoice> {
    const fromSettings = chooseInterpreter(settings);
    if (fromSettings.source === 'setting') {
        return fromSettings;
    }
    return chooseInterpreter({ ...settings, pythonExtension: await pythonExtensionInterpreter(resource) });
}

/** Runs the interpreter once: its version, and whether the server package is importable. */
export function probe(python: string, timeoutMs = 30_000): Promise<ProbeResult> {
    return new Promise((resolve) => {
        execFile(python, ['-c', PROBE_SCRIPT], { timeout: timeoutMs, windowsHide: true }, (error, stdout, stderr) => {
            const err = error as (NodeJS.ErrnoException & { code?: string | number }) | null;
            if (err && typeof err.code === 'string') {
                resolve(parseProbe(null, '', '', err.code === 'ENOENT' ? 'not found' : err.message));
                return;
            }
            const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
            resolve(parseProbe(code, String(stdout), String(stderr)));
        });
    });
}
