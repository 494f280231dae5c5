/** Benchmark tasks: shared batch and task shapes. Layouts are time-major like the cells (core/cells/types.ts). */
import type { Rng } from '../util/rng';

export type TaskKind = 'copy' | 'denoise' | 'smnist';

export interface Batch {
  /** Inputs [T, B, inputSize], flattened row-major: x[(t*B + b)*inputSize + i]. */
  x: Float64Array;
  T: number;
  B: number;
  inputSize: number;
  /** Regression targets [B, outputUnits] (copy, denoise), or undefined. */
  y?: Float64Array;
  /** Class labels [B] (smnist), or undefined. */
  labels?: Int32Array;
}

export interface Task {
  name: TaskKind;
  inputSize: number;
  outputUnits: number;
  activation: 'linear' | 'softmax';
  loss: 'mse' | 'crossentropy';
  /** Total number of time steps of a sample. */
  seqLen: number;
  /** Data steps before any appended tail: copy T, denoise T noise steps, smnist 784 pixels. */
  T: number;
  /** Forbidden tail (denoise), black pixels appended (smnist); 0 for copy. */
  N: number;
  testSize: number;
  /** Size of the fixed training set, or undefined when every training batch is fresh data. */
  trainSize: number | undefined;
  /** Draw a training batch from rng (advances rng; nothing else is consumed). */
  trainBatch(rng: Rng, B: number): Batch;
  /** The fixed test set (deterministic given the task's seed), in order, in batches of at most B. */
  testBatches(B: number): Batch[];
}

export function checkInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`${name} must be an integer >= ${min} (got ${String(v)})`);
  }
  return v;
}
