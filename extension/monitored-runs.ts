/**
 * Runs written by the Python Monitor (core/runs/monitored.ts) as the host lists them: in the runs folder and
 * in any folder the user watches. Each run is core/runs' summary (live from the heartbeat, a bad run's one
 * line) plus a stable id for panels and each snapshot's problem (a partial or damaged file), never thrown.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { findRuns, type RunSummary } from '../core/runs/list';
import { checkSnapshot, factoryFile, MONITOR_FILE, readMonitorInfo, RunError, type MonitorTask } from '../core/runs/monitored';

export interface CheckedSnapshot {
  step: number;
  path: string;
  /** Why it cannot be diagnosed (partial, damaged); absent when it is whole. */
  problem?: string;
}

export interface MonitoredRun extends Omit<RunSummary, 'snapshots'> {
  /** Panels and commands name the run by this id (a folder name is not unique across watched folders). */
  id: string;
  snapshots: CheckedSnapshot[];
  task?: MonitorTask;
  /** The model code cannot be found (moved, deleted): the run is listed, its snapshots cannot be diagnosed. */
  codeProblem?: string;
}

export interface WatchedFolder {
  dir: string;
  runs: MonitoredRun[];
  /** The folder cannot be listed, or holds no runs: said in one line. */
  problem?: string;
}

/** `mon.` and a hash of the folder: safe as a run id (isSafeRunId) and the same after a reload. */
export function monitoredRunId(dir: string): string {
  return `mon.${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`;
}

/** A snapshot is checked whole once per version of the file (the Monitor replaces files, never edits them). */
const checked = new Map<string, { key: string; problem?: string }>();

function snapshotProblem(path: string): string | undefined {
  let key: string;
  try {
    const st = statSync(path);
    key = `${st.size}:${st.mtimeMs}`;
  } catch (e) {
    return `cannot read snapshot ${path}: ${(e as Error).message}`;
  }
  const hit = checked.get(path);
  if (hit?.key === key) return hit.problem;
  let problem: string | undefined;
  try {
    checkSnapshot(path);
  } catch (e) {
    if (!(e instanceof RunError)) throw e;
    problem = e.message;
  }
  if (checked.size > 5000) checked.clear();
  checked.set(path, { key, problem });
  return problem;
}

/** The Monitor's task, and why its model cannot be rebuilt (core/runs' one line) when its code moved. */
function monitorDetails(dir: string): Pick<MonitoredRun, 'task' | 'codeProblem'> {
  try {
    const info = readMonitorInfo(dir);
    if (!info) return {};
    try {
      factoryFile(dir, info.model);
      return { task: info.task };
    } catch (e) {
      return { task: info.task, codeProblem: (e as Error).message };
    }
  } catch {
    return {};
  }
}

export function toMonitoredRun(r: RunSummary): MonitoredRun {
  return {
    ...r,
    id: monitoredRunId(r.dir),
    snapshots: r.snapshots.map((s) => {
      const problem = snapshotProblem(s.path);
      return problem ? { ...s, problem } : s;
    }),
    ...(r.kind === 'monitored' && r.state !== 'bad' ? monitorDetails(r.dir) : {}),
  };
}

/** A folder the Monitor wrote into: it has monitor.json (built-in runs are listed by runs.ts). */
export function isMonitoredFolder(dir: string): boolean {
  return existsSync(join(dir, MONITOR_FILE));
}

/** The monitored runs directly under the runs folder (a missing folder has none). */
export function monitoredRunsIn(runsDir: string, now = Date.now()): MonitoredRun[] {
  try {
    return findRuns(runsDir, now)
      .filter((r) => r.kind === 'monitored' || (r.state === 'bad' && isMonitoredFolder(r.dir)))
      .map(toMonitoredRun);
  } catch {
    return [];
  }
}

/** Every run in a watched folder (the folder itself when it is a run), or the one line saying why none. */
export function readWatchedFolder(dir: string, now = Date.now()): WatchedFolder {
  try {
    const runs = findRuns(dir, now).map(toMonitoredRun);
    return runs.length ? { dir, runs } : { dir, runs, problem: `${basename(dir)} holds no runs (a run folder has run.json)` };
  } catch (e) {
    if (!(e instanceof RunError)) throw e;
    return { dir, runs: [], problem: e.message };
  }
}
