/**
 * Checks a custom cell file before it is used, in a worker thread with a time limit: the file is loaded
 * (user code runs there, never in the caller's thread) and dry-run at the given layer sizes. An endless loop,
 * a crash or an exhausted heap in the user's code ends the worker, not the caller.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ParamSpec } from '../cells/types';
import type { TaskKind } from '../tasks/types';
import { CustomCellError } from './source';

export interface CellProbeRequest {
  kind: 'custom-cell-probe';
  file: string;
  sizes: { inputSize: number; units: number }[];
}

export interface CellProbeLayer {
  inputSize: number;
  units: number;
  stateSize: number;
  params: ParamSpec[];
}

export interface CellProbeResult {
  name: string;
  file: string;
  sha256: string;
  backend: string;
  hIsState: boolean;
  gateNames: string[];
  layers: CellProbeLayer[];
}

export type CellProbeReply =
  | { type: 'ready' }
  | { type: 'ok'; result: CellProbeResult }
  | { type: 'error'; message: string; file?: string; line?: number; column?: number };

/** Input width of each task's sequences (the first layer's inputSize). */
const TASK_INPUT: Record<TaskKind, number> = { copy: 1, denoise: 2, smnist: 1 };

/** The distinct layer sizes a training config gives its cell: the first layer, and the stacked ones if any. */
export function probeSizes(c: { task: TaskKind; units: number; layers: number }): { inputSize: number; units: number }[] {
  const sizes = [{ inputSize: TASK_INPUT[c.task], units: c.units }];
  if (c.layers > 1) sizes.push({ inputSize: c.units, units: c.units });
  return sizes;
}

export function isCellProbeRequest(v: unknown): v is CellProbeRequest {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'custom-cell-probe';
}

export interface ProbeOptions {
  /** Layer sizes to dry-run (default one layer, inputSize 1, 8 units). */
  sizes?: { inputSize: number; units: number }[];
  /** Time the user's code may take (loading plus the dry runs), after the runtime has loaded; default 20 s. */
  timeoutMs?: number;
  /** Time for the worker to load TypeScript and TensorFlow.js; default 60 s. */
  startupMs?: number;
  /** Heap limit of the worker (default 1024 MB). */
  maxHeapMb?: number;
  /** The worker script (default: dist/train-worker.js next to this bundle, or the sources under tsx). */
  workerScript?: string;
}

function workerLocation(override?: string): { file: string; eval?: boolean } {
  if (override) return { file: override };
  const bundled = join(__dirname, 'train-worker.js');
  if (existsSync(bundled)) return { file: bundled };
  const source = join(__dirname, '..', 'train', 'worker-entry.ts');
  if (existsSync(source)) return { file: `require('tsx/cjs'); require(${JSON.stringify(source)});`, eval: true };
  const dist = join(__dirname, '..', '..', 'dist', 'train-worker.js');
  if (existsSync(dist)) return { file: dist };
  throw new Error('custom cell worker script not found; run `npm run build`');
}

/** Loads and dry-runs a cell file in a worker; rejects with a CustomCellError naming the user's position. */
export function probeCustomCell(path: string, opts: ProbeOptions = {}): Promise<CellProbeResult> {
  const file = resolve(path);
  const req: CellProbeRequest = { kind: 'custom-cell-probe', file, sizes: opts.sizes ?? [{ inputSize: 1, units: 8 }] };
  const loc = workerLocation(opts.workerScript);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(loc.file, {
      eval: loc.eval,
      workerData: req,
      resourceLimits: { maxOldGenerationSizeMb: opts.maxHeapMb ?? 1024 },
    });
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: Error | null, result?: CellProbeResult) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      void worker.terminate();
      if (err) reject(err);
      else resolvePromise(result!);
    };
    const arm = (ms: number, what: string) => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => finish(new CustomCellError(`${file}: ${what}`, file)), ms);
    };
    arm(opts.startupMs ?? 60_000, 'the custom cell runtime (TypeScript, TensorFlow.js) did not load in time');
    worker.on('message', (m: CellProbeReply) => {
      if (m.type === 'ready')
        arm(timeoutMs, `loading the cell and a test step did not finish within ${(timeoutMs / 1000).toFixed(1)} s (an endless loop?)`);
      else if (m.type === 'ok') finish(null, m.result);
      else finish(new CustomCellError(m.message, m.file ?? file, m.line, m.column));
    });
    worker.on('error', (e) => {
      const oom = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      finish(
        new CustomCellError(
          `${file}: ${oom ? 'the cell ran out of memory' : `the cell crashed its worker: ${e.message}`}`,
          file,
          undefined,
          undefined,
          { cause: e },
        ),
      );
    });
    worker.on('exit', (code) =>
      finish(new CustomCellError(`${file}: the cell's worker exited (code ${code}) before answering (process.exit in the cell?)`, file)),
    );
  });
}
