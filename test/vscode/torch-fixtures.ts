/**
 * A workspace with a PyTorch model: the bridge fixture's models.py and the state dict of its gru_model, and
 * the Python (with torch) the workspace settings name (rnnMemory.python.path), as a user would set it.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TORCH_FIXTURES, torchPython } from '../helpers/torch-python';

export interface TorchFixtures {
  workspace: string;
  python: string;
  models: string;
  weights: string;
  /** 1-based line of the KeyError raised by models.py's `raises` factory. */
  raisesLine: number;
}

export function makeTorchWorkspace(workspace: string): TorchFixtures {
  const python = torchPython.python ?? 'python3';
  mkdirSync(join(workspace, 'model'), { recursive: true });
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  const models = join(workspace, 'model', 'models.py');
  const weights = join(workspace, 'model', 'gru-weights.pt');
  copyFileSync(join(TORCH_FIXTURES, 'models.py'), models);
  copyFileSync(join(TORCH_FIXTURES, 'gru-weights.pt'), weights);
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'rnnMemory.python.path': python }, null, 2));
  const lines = readFileSync(models, 'utf8').split('\n');
  return { workspace, python, models, weights, raisesLine: lines.findIndex((l) => l.includes('["missing"]')) + 1 };
}
