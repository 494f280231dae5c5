/**
 * Exact fixed points of a BRC layer under a constant input, neuron by neuron (the recurrence is cellular, so
 * the layer's fixed points are all combinations of its neurons' own ones), classified with a margin: a state
 * a perturbation of the input's typical size knocks out, or whose multiplier is within δ of 1, is no memory.
 */
import type { LayerParams } from '../cells/types';
import type { CellularAttractors } from './types';

/** Grid cells on (−1, 1) in which each neuron's fixed-point equation is scanned for sign changes. */
const ROOT_GRID = 4000;

export type RootClass = 'stable' | 'marginal' | 'unstable';

export interface NeuronRoot {
  h: number;
  /** F'(h): the neuron's multiplier at the root. */
  slope: number;
  cls: RootClass;
}

/**
 * Roots of neuron j's map F(h) = c(h) h + (1 − c(h)) tanh(d + a(h) h) with d = u·U_j, a(h) = 1 + tanh(u·U_a,j
 * + w_a h + b_a), c(h) = σ(u·U_c,j + w_c h + b_c). Since c < 1, F(h) = h exactly where g(h) = tanh(d + a(h) h)
 * − h = 0 (roots lie in (−1, 1)), and F'(h) = c + (1 − c) sech²(d + a h) (a + a'(h) h) there. Roots are
 * bracketed on a grid and bisected, ascending. A root is stable when |F'| ≤ 1 − margin and its basin (the
 * interval up to the neighbouring non-stable roots) reaches further than `effect` on both sides; unstable
 * when |F'| > 1 + margin; marginal otherwise.
 */
export function brcNeuronRoots(
  p: LayerParams,
  u: ArrayLike<number>,
  I: number,
  H: number,
  j: number,
  margin: number,
  effect: number,
): NeuronRoot[] {
  let d = 0,
    pa = p.b_a[j],
    pc = p.b_c[j];
  for (let i = 0; i < I; i++) {
    d += u[i] * p.U[i * H + j];
    pa += u[i] * p.U_a[i * H + j];
    pc += u[i] * p.U_c[i * H + j];
  }
  const wa = p.w_a[j],
    wc = p.w_c[j];
  const a = (h: number) => 1 + Math.tanh(pa + wa * h);
  const g = (h: number) => Math.tanh(d + a(h) * h) - h;
  const roots: NeuronRoot[] = [];
  let h0 = -1,
    g0 = g(h0);
  for (let k = 1; k <= ROOT_GRID; k++) {
    const h1 = -1 + (2 * k) / ROOT_GRID;
    const g1 = g(h1);
    // A root exactly on a grid point is taken there (once); otherwise a sign change is bisected.
    if (g1 === 0 || (g0 !== 0 && g0 < 0 !== g1 < 0)) {
      let lo = h0,
        hi = h1;
      if (g1 !== 0) {
        for (let it = 0; it < 60; it++) {
          const m = 0.5 * (lo + hi);
          if (g(m) < 0 === g0 < 0) lo = m;
          else hi = m;
        }
      }
      const h = g1 === 0 ? h1 : 0.5 * (lo + hi);
      const c = 1 / (1 + Math.exp(-(pc + wc * h)));
      const ah = a(h);
      const da = wa * (1 - Math.tanh(pa + wa * h) ** 2);
      const z = Math.tanh(d + ah * h);
      const slope = c + (1 - c) * (1 - z * z) * (ah + da * h);
      const s = Math.abs(slope);
      roots.push({ h, slope, cls: s <= 1 - margin ? 'stable' : s > 1 + margin ? 'unstable' : 'marginal' });
    }
    h0 = h1;
    g0 = g1;
  }
  // A stable root whose basin a typical input step leaves is not held: marginal. The basin ends at the
  // neighbouring non-stable roots (between two stable roots of a continuous 1-D map there always is one).
  const kind = roots.map((r) => r.cls);
  roots.forEach((r, k) => {
    if (kind[k] !== 'stable') return;
    let left = Infinity,
      right = Infinity;
    for (let q = k - 1; q >= 0; q--)
      if (kind[q] !== 'stable') {
        left = r.h - roots[q].h;
        break;
      }
    for (let q = k + 1; q < roots.length; q++)
      if (kind[q] !== 'stable') {
        right = roots[q].h - r.h;
        break;
      }
    if (Math.min(left, right) <= effect) r.cls = 'marginal';
  });
  return roots;
}

/**
 * Stable states of every neuron of a BRC layer under the constant layer input u [I], with margin δ and each
 * neuron's typical input effect effects[j] (see brcNeuronRoots; default 0: no basin condition).
 */
export function brcCellularAttractors(
  p: LayerParams,
  u: ArrayLike<number>,
  I: number,
  H: number,
  margin = 1e-3,
  effects?: ArrayLike<number>,
): CellularAttractors {
  const stablePerNeuron: number[] = new Array(H).fill(0);
  const marginalPerNeuron: number[] = new Array(H).fill(0);
  for (let j = 0; j < H; j++) {
    const roots = brcNeuronRoots(p, u, I, H, j, margin, effects?.[j] ?? 0);
    const stable = roots.filter((r) => r.cls === 'stable').length;
    const marginal = roots.filter((r) => r.cls === 'marginal').length;
    // No stable and no marginal root means |F'| > 1 + δ at every root: the neuron then settles on an
    // attracting cycle instead (one state).
    stablePerNeuron[j] = stable === 0 && marginal === 0 ? 1 : stable;
    marginalPerNeuron[j] = marginal;
  }
  let log2 = 0;
  for (const n of stablePerNeuron) if (n > 0) log2 += Math.log2(n);
  return {
    units: H,
    stablePerNeuron,
    bistableNeurons: stablePerNeuron.filter((n) => n >= 2).length,
    log2StableStates: log2,
    margin,
    marginalPerNeuron,
    marginalNeurons: marginalPerNeuron.filter((n) => n > 0).length,
    ...(effects ? { inputEffect: Array.from({ length: H }, (_, j) => effects[j]) } : {}),
  };
}

/**
 * Class of a state of the layer from its neurons' roots: the state is a fixed point made of one root per
 * neuron; unstable if any coordinate sits on an unstable root, else marginal if any on a marginal one, else
 * stable, over the neurons that have a stable root. Null when a coordinate is not within `tol` of a root.
 */
export function cellularClass(state: ArrayLike<number>, roots: NeuronRoot[][], tol = 1e-5): RootClass | null {
  let worst: RootClass = 'stable';
  for (let j = 0; j < roots.length; j++) {
    // Neurons with no stable root (only marginal or unstable ones) are left out, as in log2StableStates.
    if (!roots[j].some((r) => r.cls === 'stable')) continue;
    let best: NeuronRoot | null = null;
    for (const r of roots[j]) if (!best || Math.abs(r.h - state[j]) < Math.abs(best.h - state[j])) best = r;
    if (!best || Math.abs(best.h - state[j]) > tol) return null;
    if (best.cls === 'unstable') return 'unstable';
    if (best.cls === 'marginal') worst = 'marginal';
  }
  return worst;
}
