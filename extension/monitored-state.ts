/**
 * Pure pieces of the store for monitored runs: the training snapshot a panel shows for a run the user's own
 * script writes (from its metrics.jsonl lines), new lines folded into it, and its status from the heartbeat.
 */
import { normalizeConfig } from '../core/train/config';
import type { MetricsLine } from '../core/train/metrics-file';
import type { TrainConfig } from '../core/train/types';
import type { SnapshotStatus, TrainingSnapshot } from '../shared/protocol';
import { MAX_POINTS, newSnapshot, thinPoints } from '../shared/training-snapshot';
import { metricsToPoints } from './metrics-tail';
import type { MonitoredRun } from './monitored-runs';

export function monitoredStatus(run: Pick<MonitoredRun, 'state'>): SnapshotStatus {
  switch (run.state) {
    case 'live':
    case 'running':
      return 'running';
    case 'completed':
      return 'completed';
    case 'failed':
      return 'failed';
    default:
      return 'stopped';
  }
}

/** The panel needs a config: the Monitor's task (what the panel's labels say), the rest the defaults. */
function configOf(run: MonitoredRun): TrainConfig {
  const task = run.task?.name ?? 'copy';
  try {
    return normalizeConfig({ task, ...(run.task?.T ? { T: run.task.T } : {}) });
  } catch {
    return normalizeConfig({ task });
  }
}

function lastStep(lines: readonly MetricsLine[], fallback: number): number {
  return lines.length ? Math.max(fallback, lines[lines.length - 1].step) : fallback;
}

/** A monitored run's snapshot from its metrics lines read so far. */
export function monitoredSnapshot(run: MonitoredRun, lines: readonly MetricsLine[]): TrainingSnapshot {
  const step = lastStep(lines, run.step);
  const s = newSnapshot(run.id, run.name, configOf(run), step, thinPoints(metricsToPoints(lines), MAX_POINTS));
  s.totalSteps = run.totalSteps || step;
  s.status = monitoredStatus(run);
  s.metricName = run.metricName === 'accuracy' || (run.metricName !== 'mse' && run.task?.name === 'smnist') ? 'accuracy' : 'mse';
  if (run.error) s.error = run.error;
  return s;
}

/** `s` with the lines appended since (a line at a step already shown replaces that point). */
export function appendMetrics(s: TrainingSnapshot, lines: readonly MetricsLine[]): TrainingSnapshot {
  const added = metricsToPoints(lines);
  if (added.length === 0) return s;
  const points = s.points.slice();
  for (const p of added) {
    const last = points[points.length - 1];
    if (last && last.step === p.step) points[points.length - 1] = { ...last, ...p };
    else points.push(p);
  }
  const step = lastStep(lines, s.step);
  return { ...s, step, totalSteps: Math.max(s.totalSteps, step), points: thinPoints(points, MAX_POINTS) };
}

/** `s` after its run was listed again: status, totals and error as run.json now says. */
export function relistedSnapshot(s: TrainingSnapshot, run: MonitoredRun): TrainingSnapshot {
  const status = monitoredStatus(run);
  const totalSteps = Math.max(run.totalSteps, s.step);
  if (status === s.status && totalSteps === s.totalSteps && run.error === s.error) return s;
  const next: TrainingSnapshot = { ...s, status, totalSteps };
  if (run.error) next.error = run.error;
  else delete next.error;
  return next;
}
