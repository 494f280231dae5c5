/**
 * Starts training in a worker thread so the caller (CLI, extension host) never blocks, and turns the
 * worker's messages and failures into events and one promise.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DoneEvent, TrainEvent } from './types';
import { customCellsAllowed } from '../custom/policy';
import type { RunRequest, TrainWorkerInput } from './worker-protocol';

export interface StartTrainingOptions extends RunRequest {
  onEvent?: (e: TrainEvent) => void;
  /** Override where the worker script is (defaults to dist/train-worker.js next to this bundle). */
  workerScript?: string;
}

export interface TrainingHandle {
  /** Ask the run to stop at the next step boundary; it saves a checkpoint and resolves as "cancelled". */
  cancel(): void;
  /** Kill the worker at once (no save beyond the last checkpoint). */
  kill(): Promise<void>;
  done: Promise<DoneEvent>;
  readonly worker: Worker;
}

/**
 * The worker script: the bundle next to this file (dist/), or — when running from sources under tsx, as
 * the unit tests do — the TypeScript entry loaded through tsx's CommonJS hook.
 */
function workerLocation(override?: string): { file: string; eval?: boolean } {
  if (override) return { file: override };
  const bundled = join(__dirname, 'train-worker.js');
  if (existsSync(bundled)) return { file: bundled };
  const source = join(__dirname, 'worker-entry.ts');
  if (existsSync(source)) return { file: `require('tsx/cjs'); require(${JSON.stringify(source)});`, eval: true };
  const dist = join(__dirname, '..', '..', 'dist', 'train-worker.js');
  if (existsSync(dist)) return { file: dist };
  throw new Error('training worker script not found; run `npm run build`');
}

export function startTraining(opts: StartTrainingOptions): TrainingHandle {
  const cancel = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancel);
  const { onEvent, workerScript, ...request } = opts;
  // May a custom cell's code run? Default: the process policy (core/custom/policy).
  const input: TrainWorkerInput = { ...request, allowCustomCells: opts.allowCustomCells ?? customCellsAllowed(), cancel };
  const loc = workerLocation(workerScript);
  const worker = new Worker(loc.file, { workerData: input, eval: loc.eval });
  let settled = false;
  const done = new Promise<DoneEvent>((resolve, reject) => {
    worker.on('message', (e: TrainEvent) => {
      onEvent?.(e);
      if (e.type === 'done') {
        settled = true;
        resolve(e);
      } else if (e.type === 'error') {
        settled = true;
        reject(new Error(e.message));
      }
    });
    worker.on('error', (err) => {
      if (settled) return;
      settled = true;
      const message = `training worker crashed: ${err.message}`;
      onEvent?.({ type: 'error', message });
      reject(new Error(message));
    });
    worker.on('exit', (code) => {
      if (settled) return;
      settled = true;
      const message = `training worker exited unexpectedly (code ${code}); the last checkpoint in ${opts.outDir} is kept`;
      onEvent?.({ type: 'error', message });
      reject(new Error(message));
    });
  });
  return {
    cancel: () => {
      Atomics.store(flag, 0, 1);
    },
    kill: async () => {
      await worker.terminate();
    },
    done,
    worker,
  };
}
