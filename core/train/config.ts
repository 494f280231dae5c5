/** Defaults and validation for training configurations (shared by the CLI, the worker and the extension). */
import { CELL_KINDS } from '../cells/types';
import { MAX_TASK_T, validateCustomRef, type Architecture } from '../model/architecture';
import type { TrainConfig } from './types';

/** Every TrainConfig field, for callers that pick a config out of an untrusted object (command arguments). */
export const TRAIN_CONFIG_KEYS = ['task', 'cell', 'T', 'N', 'layers', 'units', 'batch', 'steps', 'lr', 'seed', 'clipNorm', 'curriculum', 'evalEvery', 'testSize', 'checkpointEvery', 'engine'] as const satisfies readonly (keyof TrainConfig)[];

export const DEFAULT_CONFIG: TrainConfig = {
  task: 'copy',
  cell: 'brc',
  T: 300,
  N: 0,
  layers: 2,
  units: 100,
  batch: 100,
  steps: 30000,
  lr: 1e-3,
  seed: 1,
  clipNorm: 0,
  curriculum: 0,
  evalEvery: 100,
  testSize: 1000,
  checkpointEvery: 500,
  engine: 'fast',
};

/** Paper defaults per task (G1 protocol): T and N where the user did not set them. */
export function taskDefaults(task: TrainConfig['task']): Partial<TrainConfig> {
  switch (task) {
    case 'copy':
      return { T: 300, N: 0, layers: 2 };
    case 'denoise':
      return { T: 400, N: 200, layers: 4 };
    case 'smnist':
      return { T: 784, N: 300, layers: 4 };
  }
}

/** Validates an untrusted (partial) config and fills defaults; throws an Error naming the first problem. */
export function normalizeConfig(input: Partial<TrainConfig>): TrainConfig {
  const task = input.task ?? DEFAULT_CONFIG.task;
  if (!['copy', 'denoise', 'smnist'].includes(task)) throw new Error(`unknown task "${task}" (expected copy, denoise or smnist)`);
  const c: TrainConfig = { ...DEFAULT_CONFIG, ...taskDefaults(task), ...stripUndefined(input), task };
  if (c.cell === 'custom') {
    c.custom = validateCustomRef(c.custom, 'config "custom"');
  } else {
    if (!(CELL_KINDS as readonly string[]).includes(c.cell)) throw new Error(`unknown cell "${c.cell}" (expected ${CELL_KINDS.join(', ')} or a cell file)`);
    if (c.custom !== undefined) throw new Error('"custom" applies to cell "custom" only');
  }
  const posInt = (k: keyof TrainConfig, max = 1e9) => {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`--${k} must be a positive integer (got ${v})`);
  };
  posInt('T', MAX_TASK_T);
  posInt('layers', 64);
  posInt('units', 1 << 14);
  posInt('batch', 1e5);
  posInt('steps');
  posInt('evalEvery');
  posInt('testSize', 1e6);
  posInt('checkpointEvery');
  if (!Number.isInteger(c.N) || c.N < 0) throw new Error(`--N must be a non-negative integer (got ${c.N})`);
  if (!Number.isInteger(c.seed)) throw new Error(`--seed must be an integer (got ${c.seed})`);
  if (!(c.lr > 0 && c.lr < 10)) throw new Error(`--lr must be a positive number below 10 (got ${c.lr})`);
  if (!(c.clipNorm >= 0)) throw new Error(`--clip must be >= 0 (got ${c.clipNorm})`);
  if (!Number.isInteger(c.curriculum) || c.curriculum < 0) throw new Error(`--curriculum must be a non-negative integer (got ${c.curriculum})`);
  if (c.curriculum > 0 && c.task === 'smnist') throw new Error('--curriculum needs a task whose length can vary (copy or denoise); smnist is always 784 pixels');
  if (c.engine !== 'reference' && c.engine !== 'fast') throw new Error(`--engine must be "reference" or "fast" (got ${c.engine})`);
  if (c.task === 'denoise' && c.T - c.N < 5) throw new Error(`denoise needs T - N >= 5 (got T=${c.T}, N=${c.N})`);
  return c;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function architectureFor(c: TrainConfig, task: { inputSize: number; outputUnits: number; activation: 'linear' | 'softmax' }): Architecture {
  return {
    inputSize: task.inputSize,
    layers: Array.from({ length: c.layers }, () => (c.cell === 'custom' ? { cell: c.cell, units: c.units, custom: c.custom } : { cell: c.cell, units: c.units })),
    readout: { units: task.outputUnits, activation: task.activation, perStep: false },
    task: { name: c.task, T: c.T, N: c.N },
  };
}
