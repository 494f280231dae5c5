/** Hand-built models whose memory carriers are known, for the memory-attribution tests. */
import type { Model } from '../../core/model/model';
import type { DiagnoseInput } from '../../core/diagnostics/input';
import { Rng } from '../../core/util/rng';
import { createModel } from '../../core/model/network';
import { makeModel, setParams } from './diag-models';

/** a = 1 + tanh(b_a): b_a = 3 gives a ≈ 2 (bistable), −3 gives a ≈ 0 (monostable). */
const BISTABLE = 3;
const MONOSTABLE = -3;

/**
 * A one-layer BRC with inputs [value, 1] and five neurons of known roles:
 * 0: latches the sign of x₁ (a ≈ 2, c = 0.5, U = 1) — a carrier from t = 0 to the end;
 * 1: the same with the opposite sign (U = −0.8) — a carrier, negative correlation;
 * 2: follows its input (a ≈ 0, c ≈ 0, U = 2) — carries x₁ at t = 0 only;
 * 3: latched on the upper branch in every sequence by the constant channel (U = [0.001, 0.3]) — constant;
 * 4: no input at all — h = 0 throughout.
 */
export function plantedLatchModel(): Model {
  const model = makeModel([{ cell: 'brc', units: 5 }], { inputSize: 2, task: { name: 'custom', T: 60 } });
  setParams(model, {
    'layers.0.U': [1, -0.8, 2, 0.001, 0, /* bias channel */ 0, 0, 0, 0.3, 0],
    'layers.0.U_a': new Array(10).fill(0),
    'layers.0.U_c': new Array(10).fill(0),
    'layers.0.w_a': new Array(5).fill(0),
    'layers.0.w_c': new Array(5).fill(0),
    'layers.0.b_a': [BISTABLE, BISTABLE, MONOSTABLE, BISTABLE, BISTABLE],
    'layers.0.b_c': [0, 0, -10, 0, 0],
  });
  return model;
}

/** Copy-like batch for plantedLatchModel: x₁ ~ N(0, 1), later values ~ N(0, noise²), channel 1 = 1; y = x₁. */
export function latchBatch(B: number, T: number, seed: number, noise = 0.1): DiagnoseInput {
  const rng = new Rng(seed);
  const x = new Float64Array(T * B * 2);
  const y = new Float64Array(B);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const v = rng.normal() * (t === 0 ? 1 : noise);
      x[(t * B + b) * 2] = v;
      x[(t * B + b) * 2 + 1] = 1;
      if (t === 0) y[b] = v;
    }
  }
  return { x, T, B, y };
}

/**
 * A one-layer BRC for denoise inputs [value, marker] (marker 0 at the 5 marked steps, −1 elsewhere, +1 at
 * the end step) with two neurons: 0 writes the value at each marked step (gate c ≈ 0, a ≈ 0) and holds it
 * otherwise (c ≈ 1, a ≈ 2), so after the last mark it carries marked value 5 until the end step, which
 * erases it (c ≈ 0, a ≈ 0, value 0); 1 follows the value at every step (a ≈ 0, c ≈ 0).
 */
export function plantedDenoiseModel(T: number, N: number): Model {
  const model = createModel(
    {
      inputSize: 2,
      layers: [{ cell: 'brc', units: 2 }],
      readout: { units: 5, activation: 'linear', perStep: false },
      task: { name: 'denoise', T, N },
    },
    new Rng(1),
  );
  setParams(model, {
    // Rows: value, marker.
    'layers.0.U': [1, 2, 0, 0],
    'layers.0.U_a': [0, 0, -6, 0],
    'layers.0.U_c': [0, 0, -20, 0],
    'layers.0.w_a': [0, 0],
    'layers.0.w_c': [0, 0],
    'layers.0.b_a': [-3, MONOSTABLE],
    'layers.0.b_c': [-10, -10],
  });
  return model;
}

/**
 * plantedLatchModel with a third input channel `side` and a sixth neuron that latches the sign of side at
 * t = 0 (a ≈ 2, c = 0.5, U = 1): a borderline carrier. With side₁ = ρ·x₁ + √(1 − ρ²)·w its squared
 * correlation with x₁ is about (2/π)·ρ² (sign of a correlated Gaussian; measured 0.18 at the end for ρ = 0.55 on
 * 2560 sequences), above the default threshold 0.1 but close enough that on 256 sequences whether it is surely
 * counted depends on the batch, while neurons 0 and 1 (≈ 0.63) do not.
 */
export function plantedBorderlineModel(): Model {
  const model = makeModel([{ cell: 'brc', units: 6 }], { inputSize: 3, task: { name: 'custom', T: 60 } });
  setParams(model, {
    // Rows: value, constant 1, side.
    'layers.0.U': [1, -0.8, 2, 0.001, 0, 0, /* constant */ 0, 0, 0, 0.3, 0, 0, /* side */ 0, 0, 0, 0, 0, 1],
    'layers.0.U_a': new Array(18).fill(0),
    'layers.0.U_c': new Array(18).fill(0),
    'layers.0.w_a': new Array(6).fill(0),
    'layers.0.w_c': new Array(6).fill(0),
    'layers.0.b_a': [BISTABLE, BISTABLE, MONOSTABLE, BISTABLE, BISTABLE, BISTABLE],
    'layers.0.b_c': [0, 0, -10, 0, 0, 0],
  });
  return model;
}

/** Batch for plantedBorderlineModel: latchBatch's channels plus side (ρ·x₁ + √(1 − ρ²)·w at t = 0, then small noise). */
export function borderlineBatch(B: number, T: number, seed: number, rho = 0.55, noise = 0.1): DiagnoseInput {
  const base = latchBatch(B, T, seed, noise);
  const rng = new Rng(seed + 7_777);
  const x = new Float64Array(T * B * 3);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const o = (t * B + b) * 3;
      x[o] = base.x[(t * B + b) * 2];
      x[o + 1] = 1;
      x[o + 2] = t === 0 ? rho * base.y![b] + Math.sqrt(1 - rho * rho) * rng.normal() : noise * rng.normal();
    }
  }
  return { x, T, B, y: base.y };
}
