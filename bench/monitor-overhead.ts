/**
 * Issue 13's target: rnn_memory_lens.Monitor adds under 5 % to a step of a typical user script
 * (2 × 128 nn.GRU, T = 100, batch 64, CPU). bench/monitor_overhead.py alternates blocks of steps with and
 * without the Monitor in one Python process, so load hits both alike; this runs it and returns its JSON.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchPython } from './python';

export interface MonitorOverheadResult {
  plainMsPerStep: number;
  monitoredMsPerStep: number;
  /** monitored / plain − 1 */
  overhead: number;
  steps: number;
  every: number;
  snapshotsKept: number;
  threads: number;
  torch: string;
}

export function benchMonitorOverhead(root = process.cwd(), quick = false): MonitorOverheadResult {
  const script = join(root, 'bench', 'monitor_overhead.py');
  if (!existsSync(script)) throw new Error(`${script} not found`);
  const python = benchPython(root);
  const args = [script, ...(quick ? ['--blocks', '4', '--block-steps', '50', '--every', '100'] : [])];
  const r = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error((r.stderr || String(r.error)).trim().split('\n').slice(-2).join(' '));
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as MonitorOverheadResult;
}
