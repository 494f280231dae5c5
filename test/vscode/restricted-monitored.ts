/**
 * A run of the Python Monitor in the Restricted Mode workspace: its model code, if it ever ran, would write
 * a marker file, so the suite can tell that listing the run and asking for a snapshot's diagnosis ran none of it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../../core/model/safetensors';

export interface MonitoredFixture {
  run: string;
  step: number;
  /** Exists only if the model's Python file ran. */
  marker: string;
}

export function writeMonitoredRun(workspace: string): MonitoredFixture {
  const run = join(workspace, 'runs', 'mine');
  const code = join(workspace, 'model', 'evil_model.py');
  const marker = join(workspace, 'model', 'RAN');
  mkdirSync(join(run, 'snapshots'), { recursive: true });
  mkdirSync(join(workspace, 'model'), { recursive: true });
  writeFileSync(code, `open(${JSON.stringify(marker)}, "w").write("imported")\n\ndef make():\n    raise RuntimeError("never")\n`);
  const model = { file: code, relFile: '../../model/evil_model.py', name: 'make', args: {} };
  writeFileSync(
    join(run, 'monitor.json'),
    JSON.stringify({ format: 'rnn-memory-monitor', version: 1, model, task: { name: 'copy', T: 5 }, every: 10 }),
  );
  writeFileSync(join(run, 'metrics.jsonl'), '{"step": 10, "trainLoss": 0.5}\n');
  writeFileSync(
    join(run, 'run.json'),
    JSON.stringify({ status: 'completed', step: 10, totalSteps: 10, skipped: 0, updatedAt: new Date().toISOString() }),
  );
  const w = new Map([['w', { shape: [2], data: new Float32Array([1, 2]) }]]);
  writeFileSync(join(run, 'snapshots', 'step-00000010.safetensors'), writeSafetensors(w, { format: 'pt' }, 'F32'));
  return { run, step: 10, marker };
}
