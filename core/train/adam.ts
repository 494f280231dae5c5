/** Adam as in Keras (epsilon 1e-7, bias correction folded into the step size), with a serialisable state. */
import type { ModelParams } from '../model/model';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class Adam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Number of updates applied so far. */
  t = 0;
  readonly m = new Map<string, Float64Array>();
  readonly v = new Map<string, Float64Array>();

  constructor(opts: AdamOptions) {
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-7;
  }

  /** Applies one update in place to `params` for every gradient given. */
  update(params: ModelParams, grads: Map<string, Float64Array>): void {
    this.t++;
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const lrT = (this.lr * Math.sqrt(1 - Math.pow(b2, this.t))) / (1 - Math.pow(b1, this.t));
    for (const [name, g] of grads) {
      const p = params.get(name);
      if (!p) throw new Error(`gradient for unknown parameter "${name}"`);
      let m = this.m.get(name);
      let v = this.v.get(name);
      if (!m || !v) {
        m = new Float64Array(g.length);
        v = new Float64Array(g.length);
        this.m.set(name, m);
        this.v.set(name, v);
      }
      const w = p.data;
      for (let i = 0; i < g.length; i++) {
        const gi = g[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        w[i] -= (lrT * m[i]) / (Math.sqrt(v[i]) + eps);
      }
    }
  }
}

/** True when every gradient entry is finite (the paper's guard skips the update otherwise). */
export function allFinite(grads: Map<string, Float64Array>): boolean {
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) if (!Number.isFinite(g[i])) return false;
  return true;
}

export function globalNorm(grads: Map<string, Float64Array>): number {
  let s = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/** Scales all gradients so their global norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGlobalNorm(grads: Map<string, Float64Array>, maxNorm: number): number {
  const norm = globalNorm(grads);
  if (maxNorm > 0 && norm > maxNorm) {
    const s = maxNorm / norm;
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] *= s;
  }
  return norm;
}
