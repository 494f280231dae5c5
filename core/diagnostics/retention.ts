/**
 * Memory retention on copy-first-input (x_t i.i.d. N(0, 1), target x_1), for models with one input and one
 * linear output. One batch of length D = 2T serves every delay: the model's prediction for a copy sequence
 * of length d is its readout of h_d on the long sequence (the first d steps are exactly that sequence).
 * Decodability: a ridge probe from each layer's h_t to x_1, fitted on half the sequences, R² on the others;
 * on the diagnosed batch when that is copy-task data (free, and usually more sequences), otherwise on the
 * retention batch.
 */
import type { Architecture } from '../model/architecture';
import type { Model } from '../model/model';
import { forward, type CellResolver, type ForwardResult } from '../model/network';
import { Rng } from '../util/rng';
import { PROBE_LAMBDA, ridgeProbeR2 } from './probe';
import type { RetentionReport } from './types';

export function retentionApplicable(arch: Architecture): boolean {
  return arch.inputSize === 1 && arch.readout.units === 1 && arch.readout.activation === 'linear';
}

/** About n log-spaced integer delays from min(5, maxDelay) to maxDelay (distinct, ascending). */
export function delaySchedule(maxDelay: number, n = 10): number[] {
  const lo = Math.min(5, maxDelay);
  const out = new Set<number>();
  for (let i = 0; i < n; i++) out.add(Math.round(lo * Math.pow(maxDelay / lo, n === 1 ? 1 : i / (n - 1))));
  return [...out].sort((a, b) => a - b);
}

/** At most n evenly spaced time indices in [0, T − 1], always including both ends. */
export function probeSchedule(T: number, n = 100): number[] {
  if (T <= n) return Array.from({ length: T }, (_, t) => t);
  const out = new Set<number>();
  for (let i = 0; i < n; i++) out.add(Math.round((i * (T - 1)) / (n - 1)));
  return [...out].sort((a, b) => a - b);
}

export interface RetentionOptions {
  cells: CellResolver;
  /** Base sequence length; delays go up to 2T. */
  T: number;
  seed?: number;
  /** Sequences of the delay batch (default 16). */
  batch?: number;
  /** The diagnosed batch, when it is copy-task data: the probe then runs on it (needs B ≥ 8). */
  copyBatch?: { fr: ForwardResult; x: Float64Array };
  /** Number of delays (default 10). */
  delays?: number;
  /** Time points of the probe (default 100). */
  probeTimes?: number;
  lambda?: number;
}

export function analyzeRetention(model: Model, opts: RetentionOptions): RetentionReport | null {
  const { arch } = model;
  if (!retentionApplicable(arch)) return null;
  const B = Math.max(4, opts.batch ?? 16);
  const D = Math.max(1, 2 * opts.T);
  const rng = new Rng((opts.seed ?? 1) + 1_000_003);
  const x = new Float64Array(D * B);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const fr = forward(model, x, D, B, opts.cells);
  const L = arch.layers.length;
  const H = arch.layers[L - 1].units;
  const top = fr.layers[L - 1].fwd.h;
  const W = model.params.get('readout.kernel')!.data;
  const bias = model.params.get('readout.bias')!.data[0];
  const delays = delaySchedule(D, opts.delays ?? 10);
  const mse = delays.map((d) => {
    let s = 0;
    for (let b = 0; b < B; b++) {
      let pred: number;
      if (arch.readout.perStep) pred = fr.out[(d - 1) * B + b];
      else {
        pred = bias;
        const o = ((d - 1) * B + b) * H;
        for (let u = 0; u < H; u++) pred += top[o + u] * W[u];
      }
      s += (pred - x[b]) ** 2;
    }
    return s / B;
  });
  const own = opts.copyBatch && opts.copyBatch.fr.B >= 8 ? opts.copyBatch : { fr, x };
  const pB = own.fr.B;
  const times = probeSchedule(own.fr.T, opts.probeTimes ?? 100);
  const nTrain = Math.floor(pB / 2);
  const lambda = opts.lambda ?? PROBE_LAMBDA;
  const y = own.x.subarray(0, pB);
  const layers = own.fr.layers.map((tr, l) => {
    const Hl = tr.shape.units;
    const h = tr.fwd.h;
    const r2 = times.map((t) => ridgeProbeR2(h.subarray(t * pB * Hl, (t + 1) * pB * Hl), y, pB, Hl, nTrain, lambda));
    return { layer: l, r2 };
  });
  return { delays, mse, probe: { lambda, trainSequences: nTrain, testSequences: pB - nTrain, times, layers } };
}
