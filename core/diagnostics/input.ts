/**
 * The batch a diagnosis runs on: generated from a benchmark task, or given explicitly (the CLI's --input
 * JSON `{"x": [[[...]]], "y": [...]}`, batch × time × features). Targets default to each sequence's first
 * input for copy-first-input models (linear readout of h_T with as many units as inputs).
 */
import type { Architecture } from '../model/architecture';
import { parseSequences } from '../model/trace';
import type { Targets } from '../model/network';
import { makeTask, type TaskKind } from '../tasks/index';
import { Rng } from '../util/rng';
import { checkDiagnoseWork } from './limits';

export interface DiagnoseInput extends Targets {
  /** [T, B, inputSize] time-major. */
  x: Float64Array;
  T: number;
  B: number;
  /** Where the batch came from, for the report header: a user's file (default) or a random probe batch. */
  source?: 'file' | 'probe';
}

export interface TaskInputOptions {
  task?: TaskKind;
  T?: number;
  N?: number;
  batch?: number;
  seed?: number;
  /** smnist: path of mnist.bin. */
  dataPath?: string;
  /** Memory budget of the diagnosis (core/diagnostics/limits.ts), checked before the batch is generated. */
  memoryLimitMb?: number;
}

const DEFAULT_T: Record<TaskKind, number> = { copy: 300, denoise: 400, smnist: 784 };
const DEFAULT_N: Record<TaskKind, number> = { copy: 0, denoise: 200, smnist: 300 };

/** Whether targets can default to the first input (copy-first-input shaped model). */
export function copiesFirstInput(arch: Architecture): boolean {
  return arch.readout.activation === 'linear' && !arch.readout.perStep && arch.readout.units === arch.inputSize;
}

/** A batch of the model's task (or the one named), with its targets and the task actually used. */
export function taskInput(arch: Architecture, opts: TaskInputOptions): DiagnoseInput & { task: TaskKind; seed: number; N: number } {
  const stored = arch.task?.name && arch.task.name !== 'custom' ? arch.task.name : undefined;
  const task: TaskKind | undefined = opts.task ?? stored ?? (arch.inputSize === 1 && copiesFirstInput(arch) ? 'copy' : undefined);
  if (!task) throw new Error('no task to generate data for this model: pass a task (copy, denoise or smnist) or an explicit input');
  const sameTask = stored === task;
  const T = opts.T ?? (sameTask ? arch.task?.T : undefined) ?? DEFAULT_T[task];
  const N = opts.N ?? (sameTask ? arch.task?.N : undefined) ?? DEFAULT_N[task];
  const B = opts.batch ?? 64;
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(B) || B < 1) throw new Error(`batch must be a positive integer (got ${B})`);
  checkDiagnoseWork(arch, T, B, opts.memoryLimitMb);
  const t = makeTask({ task, T, N, seed, testSize: 0, dataPath: opts.dataPath });
  if (
    t.inputSize !== arch.inputSize ||
    t.outputUnits !== arch.readout.units ||
    t.activation !== arch.readout.activation ||
    arch.readout.perStep
  ) {
    throw new Error(
      `task ${task} gives ${t.inputSize} input${t.inputSize === 1 ? '' : 's'} and ${t.outputUnits} ${t.activation} output${t.outputUnits === 1 ? '' : 's'} read from h_T, ` +
        `but the model has ${arch.inputSize} input${arch.inputSize === 1 ? '' : 's'} and ${arch.readout.units} ${arch.readout.activation} output${arch.readout.units === 1 ? '' : 's'}` +
        `${arch.readout.perStep ? ' per step' : ''}; give an explicit input instead`,
    );
  }
  const batch = t.trainBatch(new Rng(seed), B);
  return { x: batch.x, T: batch.T, B, y: batch.y, labels: batch.labels, task, seed, N };
}

/** Parses `{"x": [[[...]]], "y": [...]}` for this model (see the module comment). */
export function parseDiagnoseInput(json: unknown, arch: Architecture, what = 'input'): DiagnoseInput {
  const { x, T, B } = parseSequences(json, arch.inputSize, what);
  const o = json as Record<string, unknown>;
  const yRaw = o.y ?? o.labels;
  const k = arch.readout.units;
  const per = arch.readout.perStep;
  if (yRaw === undefined) {
    if (!copiesFirstInput(arch)) {
      throw new Error(
        `${what}: "y" is required for this model (${arch.readout.activation} readout${per ? ' per step' : ''} with ${k} unit${k === 1 ? '' : 's'})`,
      );
    }
    const y = new Float64Array(B * k);
    y.set(x.subarray(0, B * k));
    return { x, T, B, y };
  }
  if (!Array.isArray(yRaw) || yRaw.length !== B) throw new Error(`${what}: "y" must be an array with one entry per sequence (${B})`);
  const softmax = arch.readout.activation === 'softmax';
  // Values per sequence: per-step readouts have T rows; regression rows have k values (a bare number when k = 1).
  const rows = per ? T : 1;
  const width = softmax ? 1 : k;
  const flat = new Float64Array(rows * B * width);
  for (let b = 0; b < B; b++) {
    const seq = per ? yRaw[b] : [yRaw[b]];
    if (!Array.isArray(seq) || seq.length !== rows) throw new Error(`${what}: y[${b}] must have ${T} time steps (per-step readout)`);
    for (let t = 0; t < rows; t++) {
      const v = seq[t];
      const vals = width === 1 && typeof v === 'number' ? [v] : v;
      const where = per ? `y[${b}][${t}]` : `y[${b}]`;
      if (!Array.isArray(vals) || vals.length !== width)
        throw new Error(`${what}: ${where} must be ${width === 1 ? 'a number' : `an array of ${width} numbers`}`);
      for (let i = 0; i < width; i++) {
        const n = vals[i];
        if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${what}: ${where} is not a finite number`);
        if (softmax && !(Number.isInteger(n) && n >= 0 && n < k)) throw new Error(`${what}: ${where} must be a class label 0..${k - 1}`);
        flat[(t * B + b) * width + i] = n;
      }
    }
  }
  return softmax ? { x, T, B, labels: Int32Array.from(flat) } : { x, T, B, y: flat };
}

/**
 * A foreign model names no task of ours to generate data from: probe it with standard-normal inputs (zero
 * targets / class 0), as the CLI would need an explicit --input. Undefined when a task applies.
 */
export function probeInput(model: { arch: Architecture }, T = 100, B = 32, seed = 1, memoryLimitMb?: number): DiagnoseInput | undefined {
  const { arch } = model;
  if ((arch.task?.name && arch.task.name !== 'custom') || (arch.inputSize === 1 && copiesFirstInput(arch))) return undefined;
  checkDiagnoseWork(arch, T, B, memoryLimitMb);
  const rng = new Rng(seed);
  const x = new Float64Array(T * B * arch.inputSize);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const rows = (arch.readout.perStep ? T : 1) * B;
  return arch.readout.activation === 'softmax'
    ? { x, T, B, labels: new Int32Array(rows), source: 'probe' }
    : { x, T, B, y: new Float64Array(rows * arch.readout.units), source: 'probe' };
}
