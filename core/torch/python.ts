/** Which Python runs the PyTorch helper, and where the helper script is. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** --python, else RNN_MEMORY_PYTHON, else python3. */
export function pythonCommand(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.RNN_MEMORY_PYTHON || 'python3';
}

/** python/rnn_memory_bridge.py: next to the bundle (dist/python) or in the source tree (from core/torch). */
export function helperScriptPath(): string {
  const candidates = [join(__dirname, 'python', 'rnn_memory_bridge.py'), join(__dirname, '..', '..', 'python', 'rnn_memory_bridge.py')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`the PyTorch helper script is missing (looked in ${candidates.join(', ')})`);
  return found;
}
