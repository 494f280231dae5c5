/** The architecture of a stacked recurrent model, as stored in model files' metadata. */
import {
  LAYER_CELL_KINDS,
  RECURRENT_ACTIVATIONS,
  SIMPLE_ACTIVATIONS,
  type CellOptions,
  type CustomCellRef,
  type LayerCellKind,
} from '../cells/types';

/** A recurrent layer; the optional CellOptions (absent = default math) come from imported Keras/TF.js models. */
export interface LayerSpec extends CellOptions {
  cell: LayerCellKind;
  units: number;
  /** Present exactly when cell is 'custom': which user-defined cell (core/custom) the layer runs. */
  custom?: CustomCellRef;
}

export type ReadoutActivation = 'linear' | 'softmax';

export interface ReadoutSpec {
  units: number;
  activation: ReadoutActivation;
  /** When true the readout is applied to every step's top state; otherwise only to h_T. */
  perStep: boolean;
  /** The file has no readout layer: an identity on the top layer's state stands in (outputs = h, no trained targets). */
  assumed?: true;
}

export interface Architecture {
  inputSize: number;
  layers: LayerSpec[];
  readout: ReadoutSpec;
  /** Free-form provenance (task name etc.); optional. */
  task?: TaskInfo;
}

/** What the model was trained on, so tools can regenerate matching data. */
export interface TaskInfo {
  name: 'copy' | 'denoise' | 'smnist' | 'custom';
  T?: number;
  N?: number;
}

const MAX_UNITS = 1 << 16;
const MAX_LAYERS = 64;

/** Validates an untrusted architecture object; throws an Error naming the first problem. */
export function validateArchitecture(a: unknown): Architecture {
  const fail = (msg: string): never => {
    throw new Error(`invalid architecture: ${msg}`);
  };
  if (typeof a !== 'object' || a === null || Array.isArray(a)) fail('not an object');
  const o = a as Record<string, unknown>;
  if (!isPosInt(o.inputSize, MAX_UNITS)) fail('"inputSize" must be a positive integer');
  if (!Array.isArray(o.layers) || o.layers.length === 0) fail('"layers" must be a non-empty array');
  const layers = o.layers as unknown[];
  if (layers.length > MAX_LAYERS) fail(`more than ${MAX_LAYERS} layers`);
  const outLayers: LayerSpec[] = layers.map((l, i) => {
    if (typeof l !== 'object' || l === null) return fail(`layer ${i} is not an object`);
    const lo = l as Record<string, unknown>;
    if (typeof lo.cell !== 'string' || !(LAYER_CELL_KINDS as readonly string[]).includes(lo.cell)) {
      fail(`layer ${i} has unknown cell ${JSON.stringify(lo.cell)} (expected one of ${LAYER_CELL_KINDS.join(', ')})`);
    }
    if (!isPosInt(lo.units, MAX_UNITS)) fail(`layer ${i} "units" must be a positive integer`);
    const spec: LayerSpec = { cell: lo.cell as LayerCellKind, units: lo.units as number };
    // Options are copied only when present, so default architectures keep their exact JSON.
    if (lo.recurrentActivation !== undefined) {
      if (spec.cell !== 'gru' && spec.cell !== 'lstm') fail(`layer ${i}: "recurrentActivation" applies to gru and lstm only`);
      if (!(RECURRENT_ACTIVATIONS as readonly unknown[]).includes(lo.recurrentActivation)) {
        fail(`layer ${i}: "recurrentActivation" must be one of ${RECURRENT_ACTIVATIONS.join(', ')}`);
      }
      spec.recurrentActivation = lo.recurrentActivation as LayerSpec['recurrentActivation'];
    }
    if (lo.resetAfter !== undefined) {
      if (spec.cell !== 'gru') fail(`layer ${i}: "resetAfter" applies to gru only`);
      if (typeof lo.resetAfter !== 'boolean') fail(`layer ${i}: "resetAfter" must be a boolean`);
      spec.resetAfter = lo.resetAfter as boolean;
    }
    if (lo.activation !== undefined) {
      if (spec.cell !== 'simple_rnn') fail(`layer ${i}: "activation" applies to simple_rnn only`);
      if (!(SIMPLE_ACTIVATIONS as readonly unknown[]).includes(lo.activation))
        fail(`layer ${i}: "activation" must be one of ${SIMPLE_ACTIVATIONS.join(', ')}`);
      spec.activation = lo.activation as LayerSpec['activation'];
    }
    if (spec.cell === 'custom') spec.custom = validateCustomRef(lo.custom, `invalid architecture: layer ${i} "custom"`);
    else if (lo.custom !== undefined) fail(`layer ${i}: "custom" applies to custom cells only`);
    return spec;
  });
  const r = o.readout as Record<string, unknown> | undefined;
  if (typeof r !== 'object' || r === null) fail('"readout" must be an object');
  const ro = r as Record<string, unknown>;
  if (!isPosInt(ro.units, MAX_UNITS)) fail('"readout.units" must be a positive integer');
  if (ro.activation !== 'linear' && ro.activation !== 'softmax') fail('"readout.activation" must be "linear" or "softmax"');
  const perStep = ro.perStep === undefined ? false : ro.perStep;
  if (typeof perStep !== 'boolean') fail('"readout.perStep" must be a boolean');
  if (ro.assumed !== undefined && ro.assumed !== true) fail('"readout.assumed" must be true when present');
  const arch: Architecture = {
    inputSize: o.inputSize as number,
    layers: outLayers,
    readout: {
      units: ro.units as number,
      activation: ro.activation as ReadoutActivation,
      perStep: perStep as boolean,
      ...(ro.assumed ? { assumed: true as const } : {}),
    },
  };
  if (o.task !== undefined) arch.task = validateTaskInfo(o.task, 'invalid architecture: ');
  return arch;
}

/**
 * Longest task sequence a model file may declare (also the training limit, core/train/config.ts): a diagnosis
 * regenerates the task at this length, so the file's number must not decide the work.
 */
export const MAX_TASK_T = 100_000;

/** Validates untrusted task metadata {name, T?, N?} (our files, TF.js userDefinedMetadata); errors start with `what`. */
export function validateTaskInfo(v: unknown, what: string): TaskInfo {
  const fail = (msg: string): never => {
    throw new Error(`${what}${msg}`);
  };
  const t = v as Record<string, unknown>;
  if (typeof t !== 'object' || t === null || !['copy', 'denoise', 'smnist', 'custom'].includes(t.name as string)) {
    fail('"task.name" must be copy, denoise, smnist or custom');
  }
  const task: TaskInfo = { name: t.name as TaskInfo['name'] };
  if (t.T !== undefined)
    task.T = isPosInt(t.T, MAX_TASK_T)
      ? (t.T as number)
      : fail(`"task.T" must be a positive integer up to ${MAX_TASK_T} (got ${clipNum(t.T)})`);
  if (t.N !== undefined)
    task.N = isNonNegInt(t.N) ? (t.N as number) : fail(`"task.N" must be a non-negative integer up to ${MAX_TASK_T} (got ${clipNum(t.N)})`);
  if (task.T !== undefined && task.N !== undefined && task.N > task.T) fail(`"task.N" (${task.N}) exceeds "task.T" (${task.T})`);
  return task;
}

function clipNum(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 24 ? `${s.slice(0, 24)}…` : s;
}

/** Validates an untrusted custom-cell reference ({name, source, sha256}); errors start with `what`. */
export function validateCustomRef(v: unknown, what: string): CustomCellRef {
  const fail = (msg: string): never => {
    throw new Error(`${what} ${msg}`);
  };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail('must be an object {name, source, sha256}');
  const o = v as Record<string, unknown>;
  if (typeof o.name !== 'string' || !/^[A-Za-z0-9][\w.-]{0,63}$/.test(o.name)) fail('"name" must be 1-64 letters, digits, "_", "." or "-"');
  if (typeof o.source !== 'string' || o.source.length === 0 || o.source.length > 4096 || o.source.includes('\0'))
    fail('"source" must be a file path');
  if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256)) fail('"sha256" must be 64 lowercase hex digits');
  return { name: o.name as string, source: o.source as string, sha256: o.sha256 as string };
}

function isPosInt(v: unknown, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= max;
}
function isNonNegInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TASK_T;
}
