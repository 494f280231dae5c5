/** Training configuration and the events a training run reports (worker → caller). */
import type { CellKind, CustomCellRef } from '../cells/types';
import type { EngineName } from '../engine/types';
import type { TaskKind } from '../tasks/types';

export type TaskName = TaskKind;
export type { EngineName };

export interface TrainConfig {
  task: TaskName;
  /** A built-in cell, or 'custom' with `custom` naming the user's cell file (core/custom). */
  cell: CellKind | 'custom';
  /** With cell 'custom': the cell file, relative to the run folder (absolute accepted when starting a run). */
  custom?: CustomCellRef;
  /** Sequence length (copy), noise steps (denoise, paper 400); ignored for smnist (784). */
  T: number;
  /** Forbidden tail (denoise) or black pixels appended (smnist). */
  N: number;
  layers: number;
  units: number;
  batch: number;
  steps: number;
  lr: number;
  seed: number;
  /** Global-norm gradient clipping; 0 = off (the paper uses none). */
  clipNorm: number;
  /**
   * Sequence-length curriculum (core/train/curriculum): the first this many updates train on shorter
   * sequences growing in stages up to T (copy, denoise); 0 = off (the paper uses none).
   */
  curriculum: number;
  /** Evaluate on the test set every this many steps (and at the last step). */
  evalEvery: number;
  testSize: number;
  /** Save a resumable checkpoint every this many steps (and on cancel / completion). */
  checkpointEvery: number;
  engine: EngineName;
}

export interface ProgressEvent {
  type: 'progress';
  step: number;
  totalSteps: number;
  loss: number;
  stepsPerSec: number;
  /** Length of the latest training batches while a curriculum keeps them shorter than T. */
  seqLen?: number;
  /** Updates skipped by the non-finite-gradient guard so far. */
  skipped: number;
  elapsedMs: number;
  /** The engine that runs the steps (native, wasm, reference, or the custom cell's backend), as run.json says. */
  engine?: string;
}

export interface EvalEvent {
  type: 'eval';
  step: number;
  testLoss: number;
  /** MSE for regression tasks, accuracy for smnist. */
  metric: number;
  metricName: 'mse' | 'accuracy';
}

export interface CheckpointEvent {
  type: 'checkpoint';
  step: number;
  path: string;
}

export interface DoneEvent {
  type: 'done';
  step: number;
  reason: 'completed' | 'cancelled';
  modelPath: string;
  skipped: number;
  /** The best evaluation of the run and the file holding its weights (model-best.safetensors). */
  best?: { step: number; metric: number; metricName: 'mse' | 'accuracy'; path: string };
}

export interface ErrorEvent {
  type: 'error';
  message: string;
}

export type TrainEvent = ProgressEvent | EvalEvent | CheckpointEvent | DoneEvent | ErrorEvent;
