/**
 * Runs written by the Python Monitor (python/rnn_memory_lens) from the user's own PyTorch training loop:
 * monitor.json (how to rebuild the model), run.json with a heartbeat, metrics.jsonl and
 * snapshots/step-N.safetensors. Everything here is untrusted disk content: parsed defensively, and every
 * problem is one sentence (RunError) naming the file at fault.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { readSafetensors } from '../model/safetensors';

export const MONITOR_FILE = 'monitor.json';
export const SNAPSHOT_DIR = 'snapshots';
const SNAPSHOT_RE = /^step-(\d+)\.safetensors$/;
const MAX_JSON_BYTES = 1 << 20;
/** A heartbeat older than this many heartbeat periods (and at least STALE_MIN_MS) means the script is gone. */
const STALE_PERIODS = 3;
const STALE_MIN_MS = 30_000;

/** A run the lens cannot use, said in one sentence. */
export class RunError extends Error {}

export interface MonitorModelRef {
  file: string;
  relFile?: string;
  name: string;
  args: Record<string, unknown>;
  sha256?: string;
}

export interface MonitorTask {
  name: 'copy' | 'denoise' | 'smnist';
  T?: number;
  N?: number;
}

export interface MonitorInfo {
  model: MonitorModelRef;
  task?: MonitorTask;
  every?: number;
  diagnoseEvery?: number;
}

export interface Snapshot {
  step: number;
  path: string;
}

/** JSON of a small file, or a RunError naming it. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    if (statSync(path).size > MAX_JSON_BYTES) throw new RunError(`${what} ${path} is larger than 1 MB: not a run file`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof RunError) throw e;
    throw new RunError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new RunError(`${what} ${path} is not valid JSON`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const posInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);

/** monitor.json of `dir`, or null when the folder has none (then it is not a monitored run). */
export function readMonitorInfo(dir: string): MonitorInfo | null {
  const path = join(dir, MONITOR_FILE);
  if (!existsSync(path)) return null;
  const v = readJsonFile(path, 'monitor file');
  const m = isObject(v) ? v.model : undefined;
  if (!isObject(v) || v.format !== 'rnn-memory-monitor' || !isObject(m) || typeof m.file !== 'string' || typeof m.name !== 'string')
    throw new RunError(`${path} is not a Monitor file (expected "format": "rnn-memory-monitor" and model.file, model.name)`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(m.name)) throw new RunError(`${path}: model.name "${m.name}" is not a Python name`);
  const task = isObject(v.task) && ['copy', 'denoise', 'smnist'].includes(v.task.name as string) ? v.task : undefined;
  return {
    model: {
      file: m.file,
      relFile: typeof m.relFile === 'string' ? m.relFile : undefined,
      name: m.name,
      args: isObject(m.args) ? m.args : {},
      sha256: typeof m.sha256 === 'string' ? m.sha256 : undefined,
    },
    task: task
      ? {
          name: task.name as MonitorTask['name'],
          ...(posInt(task.T) ? { T: posInt(task.T) } : {}),
          ...(typeof task.N === 'number' && Number.isInteger(task.N) && task.N >= 0 ? { N: task.N } : {}),
        }
      : undefined,
    every: posInt(v.every),
    diagnoseEvery: posInt(v.diagnoseEvery),
  };
}

/** The snapshots in the folder, oldest first (temp files of a write in progress or cut by a kill are not listed). */
export function listSnapshots(dir: string): Snapshot[] {
  let names: string[];
  try {
    names = readdirSync(join(dir, SNAPSHOT_DIR));
  } catch {
    return [];
  }
  const out: Snapshot[] = [];
  for (const n of names) {
    const m = SNAPSHOT_RE.exec(n);
    if (m) out.push({ step: Number(m[1]), path: join(dir, SNAPSHOT_DIR, n) });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** Throws a RunError when a snapshot is not a whole safetensors file (cut short, copied half, edited). */
export function checkSnapshot(path: string): void {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new RunError(`cannot read snapshot ${path}: ${(e as Error).message}`);
  }
  try {
    readSafetensors(bytes);
  } catch (e) {
    throw new RunError(`snapshot ${path} is partial or damaged (${(e as Error).message}); choose another --step`);
  }
}

/**
 * The factory's file: next to the run as recorded relative to it (the project and its runs moved or synced
 * together), else at its absolute path. A RunError when neither exists: the model code has moved.
 */
export function factoryFile(dir: string, model: MonitorModelRef): string {
  const candidates = [model.relFile !== undefined && !isAbsolute(model.relFile) ? resolve(dir, model.relFile) : undefined, model.file];
  const found = candidates.find((p): p is string => p !== undefined && existsSync(p));
  if (!found)
    throw new RunError(
      `the model code of run ${dir} has moved: ${model.name} was in ${model.file}, which no longer exists (put the file back, or edit model.file in ${join(dir, MONITOR_FILE)})`,
    );
  return found;
}

/** True when the factory file no longer has the content it had when the run started. */
export function factoryChanged(path: string, model: MonitorModelRef): boolean {
  if (!model.sha256) return false;
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex') !== model.sha256;
  } catch {
    return false;
  }
}

export type MonitorLiveness = 'live' | 'completed' | 'failed' | 'stopped';

/** Whether process `pid` runs on this machine (EPERM: it does, as another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * live / completed / failed / stopped of a monitored run's run.json. A "running" run is live while its
 * heartbeat is fresh and, when it was written on this machine, its process still exists; otherwise the
 * script died without closing the Monitor (killed, crashed, machine down): stopped.
 */
export function monitoredLiveness(status: unknown, now = Date.now()): MonitorLiveness {
  const s = isObject(status) ? status : {};
  if (s.status === 'completed') return 'completed';
  if (s.status === 'failed') return 'failed';
  if (s.status !== 'running') return 'stopped';
  const beat = typeof s.heartbeatAt === 'string' ? Date.parse(s.heartbeatAt) : NaN;
  const period = typeof s.heartbeatSeconds === 'number' && s.heartbeatSeconds > 0 ? s.heartbeatSeconds * 1000 : 10_000;
  if (!Number.isFinite(beat) || now - beat > Math.max(STALE_MIN_MS, STALE_PERIODS * period)) return 'stopped';
  if (s.host === hostname() && typeof s.pid === 'number' && Number.isInteger(s.pid) && s.pid > 0 && !processAlive(s.pid))
    return 'stopped';
  return 'live';
}
