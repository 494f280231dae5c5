/**
 * The Python every bench that runs PyTorch uses: RNN_MEMORY_PYTHON, else the venv scripts/python-setup.sh
 * makes for the tests (.e2e/python, so `npm run bench` after `npm test` finds torch), else python3.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pythonCommand } from '../core/torch/python';

export function benchPython(root = process.cwd()): string {
  const venv = join(root, '.e2e', 'python', 'bin', 'python');
  return process.env.RNN_MEMORY_PYTHON || (existsSync(venv) ? venv : pythonCommand());
}
