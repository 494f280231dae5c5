/**
 * Run folders on disk (layout in core/train/run.ts): discovery for the tree, snapshots for panels after a
 * reload, and the resumable test. Everything read here is untrusted workspace content: parse defensively.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { normalizeConfig } from '../core/train/config';
import { parseRunStatus, RUN_FILES, type RunStatus } from '../core/train/run';
import type { TrainConfig } from '../core/train/types';
import { runLabel } from '../shared/labels';
import type { TrainingPoint, TrainingSnapshot } from '../shared/protocol';
import { MAX_POINTS, newSnapshot } from '../shared/training-snapshot';
import { readMetricsFile } from '../core/train/metrics-file';
import { isMonitoredFolder } from './monitored-runs';

export type RunState = 'running' | 'completed' | 'cancelled' | 'failed' | 'interrupted' | 'unknown';

export interface RunInfo {
  id: string;
  dir: string;
  config: TrainConfig | null;
  status: RunStatus | null;
  state: RunState;
  hasCheckpoint: boolean;
  hasModel: boolean;
  /** model-best.safetensors exists (weights at the best test metric, status.best says which). */
  hasBest: boolean;
  /** Not completed, has a checkpoint, and not running in this window. */
  resumable: boolean;
  label: string;
  mtimeMs: number;
}

const MAX_JSON_BYTES = 1 << 20;

function readJson(path: string): unknown {
  try {
    if (statSync(path).size > MAX_JSON_BYTES) return null;
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

function parseConfig(v: unknown): TrainConfig | null {
  if (typeof v !== 'object' || v === null) return null;
  try {
    return normalizeConfig(v as Partial<TrainConfig>);
  } catch {
    return null;
  }
}

/** Reads one run folder; null when it holds neither config.json nor run.json. */
export function readRun(dir: string, id: string, live: ReadonlySet<string> = new Set()): RunInfo | null {
  const hasConfigFile = existsSync(join(dir, RUN_FILES.config));
  const hasStatusFile = existsSync(join(dir, RUN_FILES.status));
  if (!hasConfigFile && !hasStatusFile) return null;
  const config = parseConfig(readJson(join(dir, RUN_FILES.config)));
  const status = parseRunStatus(readJson(join(dir, RUN_FILES.status)));
  const hasCheckpoint = existsSync(join(dir, RUN_FILES.checkpoint));
  const hasModel = existsSync(join(dir, RUN_FILES.model));
  const hasBest = existsSync(join(dir, RUN_FILES.best));
  const isLive = live.has(id);
  let state: RunState = status ? status.status : 'unknown';
  if (isLive) state = 'running';
  else if (state === 'running') state = 'interrupted';
  let mtimeMs = 0;
  try {
    mtimeMs = statSync(join(dir, hasStatusFile ? RUN_FILES.status : RUN_FILES.config)).mtimeMs;
  } catch {
    // raced with a delete: keep 0
  }
  return {
    id,
    dir,
    config,
    status,
    state,
    hasCheckpoint,
    hasModel,
    hasBest,
    resumable: !isLive && hasCheckpoint && state !== 'completed',
    label: config ? runLabel(config) : id,
    mtimeMs,
  };
}

/** All runs directly under `runsDir`, newest first. A missing folder is simply empty. */
export function listRuns(runsDir: string, live: ReadonlySet<string> = new Set()): RunInfo[] {
  let names: string[];
  try {
    names = readdirSync(runsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name);
  } catch {
    return [];
  }
  const runs: RunInfo[] = [];
  for (const name of names) {
    // Runs of the Python Monitor are listed by monitored-runs.ts.
    if (isMonitoredFolder(join(runsDir, name))) continue;
    const r = readRun(join(runsDir, name), name, live);
    if (r) runs.push(r);
  }
  return runs.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.id < b.id ? 1 : -1));
}

/** metrics.jsonl → curve points (train loss, test loss, metric per evaluation). Bad lines are skipped. */
export function readMetrics(dir: string): TrainingPoint[] {
  const points: TrainingPoint[] = readMetricsFile(dir).map((m) => {
    const p: TrainingPoint = { step: m.step };
    if (m.trainLoss !== undefined) p.loss = m.trainLoss;
    if (m.testLoss !== undefined) p.testLoss = m.testLoss;
    if (m.metric !== undefined) p.metric = m.metric;
    return p;
  });
  return points.length > MAX_POINTS ? points.filter((_, i) => i % Math.ceil(points.length / MAX_POINTS) === 0) : points;
}

/** The snapshot of a run as saved on disk (for panels opened on a finished or interrupted run). */
export function snapshotFromDisk(run: RunInfo): TrainingSnapshot | null {
  if (!run.config) return null;
  const s = newSnapshot(run.id, run.label, run.config, run.status?.step ?? 0, readMetrics(run.dir));
  s.totalSteps = run.status?.totalSteps || run.config.steps;
  // Cancelled, interrupted or unknown on disk: the run is not going on, so it reads "stopped".
  s.status = run.state === 'completed' || run.state === 'failed' || run.state === 'running' ? run.state : 'stopped';
  if (run.status?.error) s.error = run.status.error;
  if (run.status?.engine) s.engine = run.status.engine;
  if (run.status?.metricName === 'accuracy' || run.status?.metricName === 'mse') s.metricName = run.status.metricName;
  return s;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** A new, unused folder name like 20261128-061530-copy-brc. */
export function newRunId(runsDir: string, c: Pick<TrainConfig, 'task' | 'cell'>, now = new Date()): string {
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  const base = `${stamp}-${c.task}-${c.cell}`;
  let id = base;
  for (let i = 2; existsSync(join(runsDir, id)); i++) id = `${base}-${i}`;
  return id;
}

/** Run ids come from folder names and from webviews: allow only plain names (no path separators). */
export function isSafeRunId(id: string): boolean {
  return /^[\w.-]{1,200}$/.test(id) && id !== '.' && id !== '..';
}

/** True when `child` is `parent` or lies below it (no `..` escape). */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
