// Builds the project's own wheel into extension/python/ so the .vsix carries the Python side:
// "Create Environment and Install" then needs no access to the repository. PYTHON picks the interpreter.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const extension = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(extension, 'python');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const python = process.env.PYTHON || 'python3';
execFileSync(python, ['-m', 'pip', 'wheel', '--no-deps', '--disable-pip-version-check', '-q', '-w', out, join(extension, '..')], { stdio: 'inherit' });
const wheels = readdirSync(out).filter((f) => f.endsWith('.whl'));
if (wheels.length !== 1) {
    throw new Error(`expected one wheel in ${out}, found ${wheels.join(', ') || 'none'}`);
}
console.log(`bundled python/${wheels[0]}`);
