/** Tensor plumbing shared by the importers: layout changes, and turning converted tensors into a checked Model. */
import { validateArchitecture, type Architecture } from '../model/architecture';
import type { Model, ModelParams, Tensor } from '../model/model';
import { expectedParamShapes } from '../model/model-file';
import { clip, FormatError } from './errors';

export type RawTensor = Tensor;

/** Upper bound on the values of one imported model (float64 in memory: 8 bytes each). */
export const MAX_MODEL_VALUES = 64 * 1024 * 1024;

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** [rows, cols] row-major → [cols, rows]. */
export function transpose(m: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = m[i * cols + j];
  return out;
}

/** Columns [c0, c0 + n) of a row-major [rows, cols] matrix. */
export function colSlice(m: Float64Array, rows: number, cols: number, c0: number, n: number): Float64Array {
  const out = new Float64Array(rows * n);
  for (let i = 0; i < rows; i++) for (let j = 0; j < n; j++) out[i * n + j] = m[i * cols + c0 + j];
  return out;
}

/**
 * Reorders the gate blocks along the last axis of a [rows, g·H] matrix (or a [g·H] vector with rows = 1):
 * output block b is input block order[b]; `sign[b]` (default 1) multiplies it.
 */
export function reorderBlocks(m: Float64Array, rows: number, H: number, order: number[], sign?: number[]): Float64Array {
  const g = order.length;
  const out = new Float64Array(rows * g * H);
  for (let i = 0; i < rows; i++) {
    for (let b = 0; b < g; b++) {
      const s = sign ? sign[b] : 1;
      for (let j = 0; j < H; j++) out[i * g * H + b * H + j] = s * m[i * g * H + order[b] * H + j];
    }
  }
  return out;
}

export function add(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v + b[i]);
}

/** Throws unless t has exactly this shape. */
export function expectShape(what: string, t: RawTensor, shape: number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new FormatError(`${what}: expected shape ${shapeStr(shape)}, found ${clip(shapeStr(t.shape))}`);
  }
}

export function identityReadout(H: number): { kernel: RawTensor; bias: RawTensor } {
  const k = new Float64Array(H * H);
  for (let i = 0; i < H; i++) k[i * H + i] = 1;
  return { kernel: { shape: [H, H], data: k }, bias: { shape: [H], data: new Float64Array(H) } };
}

/** Validates the architecture and the converted tensors against it, and warns about non-finite values. */
export function finishModel(arch: Architecture, params: ModelParams, warnings: string[]): Model {
  let valid: Architecture;
  try {
    valid = validateArchitecture(arch);
  } catch (e) {
    throw new FormatError((e as Error).message);
  }
  const expected = expectedParamShapes(valid);
  for (const [name, shape] of expected) {
    const t = params.get(name);
    if (!t) throw new FormatError(`internal: converted model lacks tensor ${name}`);
    expectShape(`tensor ${name}`, t, shape);
    if (t.data.length !== numel(shape)) throw new FormatError(`tensor ${name}: ${t.data.length} values for shape ${shapeStr(shape)}`);
    let bad = 0;
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) bad++;
    if (bad > 0) warnings.push(`tensor "${name}" has ${bad} non-finite value${bad === 1 ? '' : 's'} (NaN/Inf)`);
  }
  for (const name of params.keys()) if (!expected.has(name)) throw new FormatError(`internal: unexpected converted tensor ${name}`);
  return { arch: valid, params };
}

/** Natural order: "cells.2" before "cells.10". */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
