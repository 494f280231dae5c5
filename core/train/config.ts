/** Defaults and validation for training configurations (shared by the CLI, the worker and the extension). */
import { CELL_KINDS } from '../cells/types';
import { validateCustomRef, type Architecture } from '../model/architecture';
import { describeRange, inRange, TASK_NAMES, TRAIN_OPTIONS } from './config-schema';
import type { TrainConfig } from './types';

/** Every TrainConfig field, for callers that pick a config out of an untrusted object (command arguments). */
export const TRAIN_CONFIG_KEYS: readonly (keyof TrainConfig)[] = TRAIN_OPTIONS.map((o) => o.key);

/** The CLI's defaults (the paper's protocol for copy), from the schema. */
export const DEFAULT_CONFIG = Object.fromEntries(TRAIN_OPTIONS.map((o) => [o.key, o.default])) as unknown as TrainConfig;

/** Paper defaults per task (G1 protocol): T, N and layers where the user did not set them. */
export function taskDefaults(task: TrainConfig['task']): Partial<TrainConfig> {
  const out: Record<string, number> = {};
  for (const o of TRAIN_OPTIONS) {
    const v = o.type === 'enum' ? undefined : o.perTask?.[task];
    if (v !== undefined) out[o.key] = v;
  }
  return out as Partial<TrainConfig>;
}

/** Validates an untrusted (partial) config and fills defaults; throws an Error naming the first problem. */
export function normalizeConfig(input: Partial<TrainConfig>): TrainConfig {
  const task = input.task ?? DEFAULT_CONFIG.task;
  if (!TASK_NAMES.includes(task)) throw new Error(`unknown task "${task}" (expected copy, denoise or smnist)`);
  const c: TrainConfig = { ...DEFAULT_CONFIG, ...taskDefaults(task), ...stripUndefined(input), task };
  if (c.cell === 'custom') {
    c.custom = validateCustomRef(c.custom, 'config "custom"');
  } else {
    if (!(CELL_KINDS as readonly string[]).includes(c.cell))
      throw new Error(`unknown cell "${c.cell}" (expected ${CELL_KINDS.join(', ')} or a cell file)`);
    if (c.custom !== undefined) throw new Error('"custom" applies to cell "custom" only');
  }
  checkOptionValues(c);
  if (c.curriculum > 0 && c.task === 'smnist')
    throw new Error('--curriculum needs a task whose length can vary (copy or denoise); smnist is always 784 pixels');
  if (c.task === 'denoise' && c.T - c.N < 5) throw new Error(`denoise needs T - N >= 5 (got T=${c.T}, N=${c.N})`);
  return c;
}

/**
 * Checks the values present in `c` against the schema's types and limits (task and cell are checked by
 * normalizeConfig); throws an Error naming the flag. The CLI calls it before creating a run folder.
 */
export function checkOptionValues(c: Partial<TrainConfig>): void {
  for (const o of TRAIN_OPTIONS) {
    const v = c[o.key];
    if (v === undefined || o.key === 'task' || o.key === 'cell') continue;
    if (o.type === 'enum') {
      if (!o.values.includes(String(v))) throw new Error(`--${o.flag} must be ${o.values.join(' or ')} (got ${v})`);
    } else if (!inRange(o, v)) {
      throw new Error(`--${o.flag} must be ${describeRange(o)} (got ${v})`);
    }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function architectureFor(
  c: TrainConfig,
  task: { inputSize: number; outputUnits: number; activation: 'linear' | 'softmax' },
): Architecture {
  return {
    inputSize: task.inputSize,
    layers: Array.from({ length: c.layers }, () =>
      c.cell === 'custom' ? { cell: c.cell, units: c.units, custom: c.custom } : { cell: c.cell, units: c.units },
    ),
    readout: { units: task.outputUnits, activation: task.activation, perStep: false },
    task: { name: c.task, T: c.T, N: c.N },
  };
}
