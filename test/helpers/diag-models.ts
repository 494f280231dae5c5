/** Small hand-set models for the diagnostics tests. */
import type { Architecture, LayerSpec } from '../../core/model/architecture';
import type { Model } from '../../core/model/model';
import { createModel } from '../../core/model/network';
import { Rng } from '../../core/util/rng';

/** A model with one input and one linear output, random weights (seeded). */
export function makeModel(layers: LayerSpec[], opts: { inputSize?: number; seed?: number; task?: Architecture['task'] } = {}): Model {
  return createModel(
    {
      inputSize: opts.inputSize ?? 1,
      layers,
      readout: { units: 1, activation: 'linear', perStep: false },
      task: opts.task ?? { name: 'copy', T: 20 },
    },
    new Rng(opts.seed ?? 1),
  );
}

/** Overwrites named parameters (`layers.0.U` etc.); the values must fit the shapes. */
export function setParams(model: Model, values: Record<string, number[]>): void {
  for (const [name, v] of Object.entries(values)) {
    const t = model.params.get(name);
    if (!t) throw new Error(`no parameter ${name}`);
    if (t.data.length !== v.length) throw new Error(`${name}: ${v.length} values for ${t.data.length}`);
    t.data.set(v);
  }
}

/** Time-major [T, B, 1] from per-sequence arrays. */
export function seqBatch(seqs: number[][]): { x: Float64Array; T: number; B: number } {
  const B = seqs.length;
  const T = seqs[0].length;
  const x = new Float64Array(T * B);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) x[t * B + b] = seqs[b][t];
  return { x, T, B };
}

/** Number of roots of g on [lo, hi] by sign changes on a fine grid (an independent counter for tests). */
export function countRoots(g: (s: number) => number, lo: number, hi: number, n = 200_001): number {
  let count = 0;
  let prev = g(lo);
  if (prev === 0) count++;
  for (let i = 1; i < n; i++) {
    const v = g(lo + ((hi - lo) * i) / (n - 1));
    if (v === 0) count++;
    else if (prev !== 0 && prev * v < 0) count++;
    prev = v;
  }
  return count;
}
