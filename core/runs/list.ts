/**
 * Any run folder as one summary: the lens's own training runs (config.json, checkpoints) and runs written
 * by the Python Monitor. Used by `rnn-memory runs` and `diagnose --run`. A folder with neither run.json
 * nor config.json is not a run; a run whose files cannot be read is listed with its problem, never thrown.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { MetricsLine } from '../train/metrics-file';
import { lastMetrics } from './last-metrics';
import { parseRunStatus, RUN_FILES } from '../train/run';
import { listSnapshots, monitoredLiveness, readJsonFile, readMonitorInfo, RunError, type Snapshot } from './monitored';

export type RunKind = 'built-in' | 'monitored';
/** built-in runs say "running" for a run.json left running: this process cannot tell live from interrupted. */
export type RunState = 'live' | 'running' | 'completed' | 'failed' | 'stopped' | 'bad';

export interface RunSummary {
  dir: string;
  name: string;
  kind: RunKind;
  state: RunState;
  step: number;
  totalSteps: number;
  last?: MetricsLine;
  metricName?: string;
  /** Weight files the run can be diagnosed at (monitored: its snapshots; built-in: model.safetensors, model-best). */
  snapshots: Snapshot[];
  error?: string;
  /** Why the run cannot be used (state "bad"). */
  problem?: string;
}

export function isRunFolder(dir: string): boolean {
  return existsSync(join(dir, RUN_FILES.status)) || existsSync(join(dir, RUN_FILES.config));
}

/** Weights of a built-in run: the latest model, and the best one at its step. */
export function builtInSnapshots(dir: string, step: number, bestStep: number | undefined): Snapshot[] {
  const out: Snapshot[] = [];
  if (bestStep !== undefined && existsSync(join(dir, RUN_FILES.best))) out.push({ step: bestStep, path: join(dir, RUN_FILES.best) });
  if (existsSync(join(dir, RUN_FILES.model))) out.push({ step, path: join(dir, RUN_FILES.model) });
  return out.sort((a, b) => a.step - b.step);
}

/** The summary of one run folder, or null when `dir` is not a run. */
export function describeRun(dir: string, now = Date.now()): RunSummary | null {
  if (!isRunFolder(dir)) return null;
  const name = basename(dir);
  let kind: RunKind = 'built-in';
  try {
    kind = readMonitorInfo(dir) ? 'monitored' : 'built-in';
    const raw = existsSync(join(dir, RUN_FILES.status)) ? readJsonFile(join(dir, RUN_FILES.status), 'run status') : undefined;
    const status = raw === undefined ? null : parseRunStatus(raw);
    if (raw !== undefined && !status) throw new RunError(`${join(dir, RUN_FILES.status)} is not a run status (no valid "status")`);
    const step = status?.step ?? 0;
    const base = {
      dir,
      name,
      kind,
      step,
      totalSteps: status?.totalSteps ?? 0,
      last: lastMetrics(dir),
      metricName: status?.metricName,
      error: status?.error,
    };
    if (kind === 'monitored') {
      return { ...base, state: monitoredLiveness(raw, now), snapshots: listSnapshots(dir) };
    }
    const st = status?.status;
    const state: RunState = !st || st === 'running' ? 'running' : st === 'cancelled' ? 'stopped' : st;
    return { ...base, state, snapshots: builtInSnapshots(dir, step, status?.best?.step) };
  } catch (e) {
    if (!(e instanceof RunError)) throw e;
    return { dir, name, kind, state: 'bad', step: 0, totalSteps: 0, snapshots: [], problem: e.message };
  }
}

function mtime(dir: string): number {
  try {
    return statSync(join(dir, RUN_FILES.status)).mtimeMs;
  } catch {
    return 0;
  }
}

/** `dir` itself when it is a run, else the runs directly under it, newest first. */
export function findRuns(dir: string, now = Date.now()): RunSummary[] {
  const self = describeRun(dir, now);
  if (self) return [self];
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name);
  } catch (e) {
    throw new RunError(`cannot list ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (e as Error).message}`);
  }
  const runs = names.map((n) => describeRun(join(dir, n), now)).filter((r): r is RunSummary => r !== null);
  return runs.sort((a, b) => mtime(b.dir) - mtime(a.dir) || a.name.localeCompare(b.name));
}
