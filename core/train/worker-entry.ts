/** Entry of the training worker thread (bundled to dist/train-worker.js). */
import { parentPort, workerData } from 'node:worker_threads';
import { runTraining, writeRunStatus } from './run';
import type { TrainEvent } from './types';
import type { TrainWorkerInput } from './worker-protocol';

const input = workerData as TrainWorkerInput;
const flag = new Int32Array(input.cancel);
const emit = (e: TrainEvent) => parentPort?.postMessage(e);

try {
  runTraining({
    outDir: input.outDir,
    config: input.config,
    resume: input.resume,
    steps: input.steps,
    isCancelled: () => Atomics.load(flag, 0) !== 0,
    emit,
    progressIntervalMs: input.progressIntervalMs,
    dataPath: input.dataPath,
  });
} catch (e) {
  const message = e instanceof Error ? e.message : String(e);
  try {
    writeRunStatus(input.outDir, { status: 'failed', step: 0, totalSteps: 0, skipped: 0, updatedAt: new Date().toISOString(), error: message });
  } catch {
    // The run folder itself may be unusable; the error event still reaches the caller.
  }
  emit({ type: 'error', message });
}
