/**
 * A workspace where the user's own PyTorch training script uses the Monitor: the fixture model and script
 * (test/fixtures/torch/monitor) under code/, rnnMemory.python.path naming a Python with torch, and, outside
 * the workspace, a folder holding a finished monitored run (for "Watch Runs Folder…") and an empty one.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TORCH_FIXTURES, torchPython } from '../helpers/torch-python';

const ROOT = join(__dirname, '..', '..');

export interface MonitorFixtures {
  workspace: string;
  python: string;
  /** The training script in the workspace, and the PYTHONPATH that finds rnn_memory_lens. */
  script: string;
  pythonPath: string;
  /** dist/cli.js of this repository (the CLI the equality check runs). */
  cli: string;
  /** A folder outside the workspace with one completed monitored run, "done". */
  watched: string;
  empty: string;
}

export function makeMonitorWorkspace(workspace: string): MonitorFixtures {
  const python = torchPython.python ?? 'python3';
  const code = join(workspace, 'code');
  cpSync(join(TORCH_FIXTURES, 'monitor'), code, { recursive: true });
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'rnnMemory.python.path': python }, null, 2));
  const pythonPath = join(ROOT, 'python');
  const outside = join(workspace, '..', 'elsewhere');
  const watched = join(outside, 'synced-runs');
  const empty = join(outside, 'empty');
  mkdirSync(empty, { recursive: true });
  const r = spawnSync(python, [join(code, 'train_tiny.py'), join(watched, 'done'), '--steps', '20'], {
    env: { ...process.env, PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: '1' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`the fixture run failed: ${r.stderr}`);
  return { workspace, python, script: join(code, 'train_tiny.py'), pythonPath, cli: join(ROOT, 'dist', 'cli.js'), watched, empty };
}
