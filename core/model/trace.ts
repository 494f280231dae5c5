/** Runs a model on user-given sequences and returns per-layer states and gates as nested arrays. */
import type { Model } from './model';
import { forward, softmaxRows, type CellResolver } from './network';
import { referenceCell } from '../cells/index';

export interface TraceInput {
  /** [B][T][F] sequences. */
  x: Float64Array;
  B: number;
  T: number;
}

export interface TraceOutput {
  /** [B][k] outputs (probabilities for softmax readouts), or [B][T][k] for per-step readouts. */
  y: number[][] | number[][][];
  layers: { cell: string; h: number[][][]; gates: Record<string, number[][][]> }[];
}

const MAX_VALUES = 50_000_000;

/** Validates `{"x": [[[...]]]}` (batch × time × features) against the model's input size. */
export function parseSequences(json: unknown, inputSize: number, what = 'input'): TraceInput {
  if (typeof json !== 'object' || json === null || !('x' in json))
    throw new Error(`${what}: expected an object with "x" (batch × time × features)`);
  const x = (json as { x: unknown }).x;
  if (!Array.isArray(x) || x.length === 0) throw new Error(`${what}: "x" must be a non-empty array of sequences`);
  const B = x.length;
  const first = x[0];
  if (!Array.isArray(first) || first.length === 0) throw new Error(`${what}: x[0] must be a non-empty array of time steps`);
  const T = first.length;
  if (B * T * inputSize > MAX_VALUES) throw new Error(`${what}: too large (${B}×${T}×${inputSize} values)`);
  const out = new Float64Array(T * B * inputSize);
  for (let b = 0; b < B; b++) {
    const seq = x[b];
    if (!Array.isArray(seq) || seq.length !== T)
      throw new Error(
        `${what}: x[${b}] has ${Array.isArray(seq) ? seq.length : 'no'} time steps, expected ${T} (all sequences must have the same length)`,
      );
    for (let t = 0; t < T; t++) {
      const v = seq[t];
      if (!Array.isArray(v) || v.length !== inputSize) {
        throw new Error(
          `${what}: x[${b}][${t}] must be an array of ${inputSize} feature${inputSize === 1 ? '' : 's'} (the model's input size)`,
        );
      }
      for (let i = 0; i < inputSize; i++) {
        const n = v[i];
        if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${what}: x[${b}][${t}][${i}] is not a finite number`);
        out[(t * B + b) * inputSize + i] = n;
      }
    }
  }
  return { x: out, B, T };
}

/** [T, B, H] time-major → [B][T][H] nested arrays. */
export function toBatchMajor(a: Float64Array, T: number, B: number, H: number): number[][][] {
  const out: number[][][] = [];
  for (let b = 0; b < B; b++) {
    const seq: number[][] = [];
    for (let t = 0; t < T; t++) {
      const off = (t * B + b) * H;
      seq.push(Array.from(a.subarray(off, off + H)));
    }
    out.push(seq);
  }
  return out;
}

export function traceModel(model: Model, input: TraceInput, cells: CellResolver = referenceCell): TraceOutput {
  const { x, B, T } = input;
  const fr = forward(model, x, T, B, cells);
  const k = model.arch.readout.units;
  const out = model.arch.readout.activation === 'softmax' ? softmaxRows(fr.out, k) : fr.out;
  let y: number[][] | number[][][];
  if (model.arch.readout.perStep) {
    y = toBatchMajor(out, T, B, k);
  } else {
    y = Array.from({ length: B }, (_, b) => Array.from(out.subarray(b * k, b * k + k)));
  }
  const layers = fr.layers.map((tr, i) => {
    const H = tr.shape.units;
    const gates: Record<string, number[][][]> = {};
    for (const [name, g] of Object.entries(tr.fwd.gates)) gates[name] = toBatchMajor(g, T, B, H);
    return { cell: model.arch.layers[i].cell, h: toBatchMajor(tr.fwd.h, T, B, H), gates };
  });
  return { y, layers };
}
