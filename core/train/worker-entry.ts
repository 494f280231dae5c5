/**
 * Entry of the training worker thread (bundled to dist/train-worker.js). The same script answers custom
 * cell probes (core/custom/cell-check.ts), so user code is checked in a thread of its own before a run starts.
 * Both branches are required lazily: a probe does not load the trainer, a built-in run never loads
 * TypeScript or TensorFlow.js.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isCellProbeRequest } from '../custom/cell-check';
import type { TrainEvent } from './types';
import type { TrainWorkerInput } from './worker-protocol';

function train(input: TrainWorkerInput): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: loaded only when needed
  const { runTraining, writeFailedStatus } = require('./run') as typeof import('./run');
  const { cancel, ...request } = input;
  const flag = new Int32Array(cancel);
  // How far the run got, from its own events: a failure records that, not "step 0 of 0".
  const reached: { step?: number; totalSteps?: number; skipped?: number } = {};
  const emit = (e: TrainEvent) => {
    if (e.type === 'progress') Object.assign(reached, { step: e.step, totalSteps: e.totalSteps, skipped: e.skipped });
    else if (e.type === 'eval' || e.type === 'checkpoint') reached.step = e.step;
    parentPort?.postMessage(e);
  };
  try {
    runTraining({ ...request, isCancelled: () => Atomics.load(flag, 0) !== 0, emit });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // A refused checkpoint changed nothing: run.json keeps describing the run as it was.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: loaded only when needed
    if (e instanceof (require('./checkpoint') as typeof import('./checkpoint')).CheckpointRefusedError) {
      emit({ type: 'error', message });
      return;
    }
    try {
      writeFailedStatus(input.outDir, message, { totalSteps: input.resume ? undefined : input.config?.steps, ...reached });
    } catch {
      // The run folder itself may be unusable; the error event still reaches the caller.
    }
    emit({ type: 'error', message });
  }
}

if (isCellProbeRequest(workerData)) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: loaded only when needed
  (require('../custom/cell-check-worker') as typeof import('../custom/cell-check-worker')).answerCellProbe(workerData);
} else {
  train(workerData as TrainWorkerInput);
}
