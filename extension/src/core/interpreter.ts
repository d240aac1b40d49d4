// Which Python runs the server, and what to tell the user when it cannot. Pure.

export type InterpreterSource = 'setting' | 'python-extension' | 'default';

export interface InterpreterChoice {
    command: string;
    source: InterpreterSource;
}

export interface InterpreterInputs {
    /** `alpaca.pythonPath` (already substituted). */
    setting?: string;
    /** `alpaca.python.interpreterPath` (alias of pythonPath). */
    aliasSetting?: string;
    /** The ms-python extension's active interpreter, when that extension is installed. */
    pythonExtension?: string;
    /** Fallback command on PATH. */
    fallback?: string;
}

export const DEFAULT_PYTHON = 'python3';

export function chooseInterpreter(inputs: InterpreterInputs): InterpreterChoice {
    const setting = (inputs.setting ?? '').trim() || (inputs.aliasSetting ?? '').trim();
    if (setting) {
        return { command: setting, source: 'setting' };
    }
    const ext = (inputs.pythonExtension ?? '').trim();
    if (ext) {
        return { command: ext, source: 'python-extension' };
    }
    return { command: (inputs.fallback ?? '').trim() || DEFAULT_PYTHON, source: 'default' };
}

export function describeSource(source: InterpreterSource): string {
    switch (source) {
        case 'setting':
            return 'the alpaca.pythonPath setting';
        case 'python-extension':
            return "the Python extension's active interpreter";
        default:
            return 'PATH';
    }
}

export type ProbeResult =
    | { kind: 'ok'; version: string }
    | { kind: 'no-python'; detail: string }
    | { kind: 'old-python'; version: string }
    | { kind: 'no-server'; version: string; detail: string };

/** The probe script prints the Python version, then tries to import the server package. */
export const PROBE_SCRIPT = [
    'import sys',
    'print("%d.%d.%d" % sys.version_info[:3])',
    'sys.stdout.flush()',
    'import importlib.util as u',
    'sys.exit(0 if u.find_spec("alpaca_server") else 3)',
].join('; ');

export const MIN_PYTHON: [number, number] = [3, 11];

export function parseProbe(code: number | null, stdout: string, stderr: string, spawnError?: string): ProbeResult {
    if (spawnError) {
        return { kind: 'no-python', detail: spawnError };
    }
    const version = stdout.trim().split(/\r?\n/)[0] ?? '';
    const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
    if (!m) {
        return { kind: 'no-python', detail: (stderr || stdout || `exit code ${code}`).trim() };
    }
    const [major, minor] = [Number(m[1]), Number(m[2])];
    if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
        return { kind: 'old-python', version };
    }
    if (code !== 0) {
        return { kind: 'no-server', version, detail: stderr.trim() };
    }
    return { kind: 'ok', version };
}

export function probeMessage(python: string, result: ProbeResult): string {
    switch (result.kind) {
        case 'ok':
            return `Alpaca: using Python ${result.version} at ${python}.`;
        case 'no-python':
            return `Alpaca: no Python interpreter at "${python}" (${result.detail}). Set "alpaca.pythonPath" to a Python ${MIN_PYTHON.join('.')}+ interpreter.`;
        case 'old-python':
            return `Alpaca: Python ${result.version} at "${python}" is too old; the server needs Python ${MIN_PYTHON.join('.')} or newer. Set "alpaca.pythonPath".`;
        case 'no-server':
            return `Alpaca: the server package (alpaca-docs) is not installed for ${python} (Python ${result.version}).`;
    }
}
