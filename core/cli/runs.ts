/**
 * `rnn-memory runs [DIR] [--json]`: the runs in DIR (default runs/), built-in and monitored, with status,
 * steps, last metrics and snapshots; and `diagnose --run DIR [--step N]`'s choice of weights.
 */
import { relative } from 'node:path';
import { findRuns, describeRun, type RunSummary } from '../runs/list';
import { checkSnapshot, factoryChanged, factoryFile, readMonitorInfo, RunError, type MonitorTask } from '../runs/monitored';
import { UsageError, type FlagReader } from './args';

export const RUNS_HELP = `runs [DIR] options (DIR: a run folder or a folder of runs; default runs):
  --json             one JSON object per run instead of the table
Status: live (a monitored script is writing it), running (a built-in run.json left running: live or
interrupted), completed, failed, stopped (cancelled, or a monitored script that died without close()), bad
(not readable: the reason is shown).

diagnose --run DIR [--step N]: diagnoses a run's weights (instead of --model/--torch). A monitored run
rebuilds its model in your Python from monitor.json and loads the snapshot at step N (default: the latest);
its task comes from the Monitor's task= unless --task or --input is given. A built-in run diagnoses
model.safetensors (or model-best.safetensors with --step at its best step).`;

function fmt(v: number | undefined): string {
  return v === undefined ? '-' : v.toPrecision(4);
}

function line(r: RunSummary, base: string): string {
  const where = relative(base, r.dir) || r.dir;
  if (r.state === 'bad') return `${where}  ${r.kind}  bad: ${r.problem}`;
  const steps = r.totalSteps ? `${r.step}/${r.totalSteps}` : `${r.step}`;
  const snaps = r.snapshots.length
    ? `${r.snapshots.length} snapshot${r.snapshots.length === 1 ? '' : 's'} (steps ${r.snapshots.map((s) => s.step).join(', ')})`
    : 'no snapshots';
  const last = r.last;
  const parts = last
    ? [
        last.trainLoss !== undefined && `loss ${fmt(last.trainLoss)}`,
        last.testLoss !== undefined && `test loss ${fmt(last.testLoss)}`,
        last.metric !== undefined && `${r.metricName ?? 'metric'} ${fmt(last.metric)}`,
      ].filter(Boolean)
    : [];
  const metrics = parts.length ? `last ${parts.join(', ')}` : 'no metrics yet';
  return `${where}  ${r.kind}  ${r.state}  step ${steps}  ${metrics}  ${snaps}${r.error ? `  error: ${r.error}` : ''}`;
}

export function cmdRuns(f: FlagReader, positional: string[]): number {
  const json = f.bool('json');
  f.finish();
  if (positional.length > 1) throw new UsageError(`runs takes one folder (got ${positional.join(' ')})`);
  const dir = positional[0] ?? 'runs';
  const runs = findRuns(dir);
  if (runs.length === 0) throw new RunError(`${dir} holds no runs (a run folder has run.json or config.json)`);
  for (const r of runs) {
    process.stdout.write(
      json
        ? JSON.stringify({ ...r, snapshots: r.snapshots.map((s) => ({ step: s.step, file: relative(r.dir, s.path) })) }) + '\n'
        : line(r, dir) + '\n',
    );
  }
  return 0;
}

export type RunTarget =
  | { kind: 'model'; path: string; step: number }
  | {
      kind: 'torch';
      file: string;
      name: string;
      args: Record<string, unknown>;
      weights: string;
      step: number;
      task?: MonitorTask;
      /** The model file changed since the run started (the snapshot may no longer fit it). */
      changed: boolean;
    };

/** The weights `diagnose --run DIR [--step N]` diagnoses, checked whole; a RunError says why not. */
export function runTarget(dir: string, step: number | undefined): RunTarget {
  const run = describeRun(dir);
  if (!run) throw new RunError(`${dir} is not a run (a run folder has run.json or config.json)`);
  if (run.state === 'bad') throw new RunError(run.problem!);
  if (run.snapshots.length === 0)
    throw new RunError(
      `run ${dir} has no ${run.kind === 'monitored' ? 'snapshots yet (the Monitor writes one every `every` steps)' : 'model yet'}`,
    );
  const snap = step === undefined ? run.snapshots[run.snapshots.length - 1] : run.snapshots.find((s) => s.step === step);
  if (!snap) throw new RunError(`run ${dir} has no snapshot at step ${step} (it has steps ${run.snapshots.map((s) => s.step).join(', ')})`);
  checkSnapshot(snap.path);
  if (run.kind === 'built-in') return { kind: 'model', path: snap.path, step: snap.step };
  const info = readMonitorInfo(dir)!;
  const file = factoryFile(dir, info.model);
  return {
    kind: 'torch',
    file,
    name: info.model.name,
    args: info.model.args,
    weights: snap.path,
    step: snap.step,
    task: info.task,
    changed: factoryChanged(file, info.model),
  };
}
