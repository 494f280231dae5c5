/**
 * The Python the PyTorch bridge tests use: RNN_MEMORY_PYTHON, else the venv scripts/python-setup.sh makes
 * (.e2e/python), else python3 on PATH. Tests skip only when there is no Python at all, and say so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

function findPython(): { python?: string; reason?: string } {
  if (process.env.RNN_MEMORY_PYTHON) return { python: process.env.RNN_MEMORY_PYTHON };
  const venv = join(root, '.e2e', 'python', 'bin', 'python');
  if (existsSync(venv)) return { python: venv };
  if (spawnSync('python3', ['--version']).status === 0) return { python: 'python3' };
  return { reason: 'no Python found (RNN_MEMORY_PYTHON unset, no .e2e/python venv from scripts/python-setup.sh, no python3 on PATH)' };
}

export const torchPython = findPython();

/** `skip` for node:test: false when a Python is there, else the reason (printed once per file). */
export function skipWithoutPython(file: string): string | false {
  if (torchPython.python) return false;
  process.stderr.write(`${file}: skipping the PyTorch bridge tests: ${torchPython.reason}\n`);
  return torchPython.reason!;
}

export const TORCH_FIXTURES = join(root, 'test', 'fixtures', 'torch');
