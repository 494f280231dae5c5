/**
 * A type-correct DiagnosticReport with plausible data for UI tests: bistability and gradient flow come
 * from running a real (untrained) BRC/nBRC model through core/ on copy-first-input sequences; retention
 * and fixed points are synthetic curves of the right shape.
 */
import { brcInputDrive } from '../../core/cells/brc-common';
import { referenceCell } from '../../core/cells/index';
import type { BistabilityLayer, DiagnosticReport, Flip, GradientFlowLayer, NeuronSummary } from '../../core/diagnostics/types';
import { REPORT_VERSION } from '../../core/diagnostics/types';
import type { Architecture } from '../../core/model/architecture';
import { computeLoss, createModel, forward, layerParams } from '../../core/model/network';
import { Rng } from '../../core/util/rng';
import { inputAlignment } from '../../core/diagnostics/input-alignment';
import { attachSeries, perSequenceMeans } from '../../core/diagnostics/fraction-intervals';

export interface FixtureOptions {
  cell?: 'brc' | 'nbrc';
  layers?: number;
  units?: number;
  T?: number;
  B?: number;
  seed?: number;
  name?: string;
  /** Spread of the gain biases b_a: larger gives more neurons with a > 1. */
  gainSpread?: number;
}

/** u*(a), written out here independently of the webview's copy. */
function band(a: number): number {
  if (a <= 1) return 0;
  const s = Math.sqrt(1 - 1 / a);
  return a * s - 0.5 * Math.log((1 + s) / (1 - s));
}

const sign = (v: number): -1 | 0 | 1 => (v > 0 ? 1 : v < 0 ? -1 : 0);

export function buildFixtureReport(opts: FixtureOptions = {}): DiagnosticReport {
  const { cell = 'brc', layers: nLayers = 2, units = 24, T = 60, B = 8, seed = 7, gainSpread = 0.8 } = opts;
  const arch: Architecture = {
    inputSize: 1,
    layers: Array.from({ length: nLayers }, () => ({ cell, units })),
    readout: { units: 1, activation: 'linear', perStep: false },
    task: { name: 'copy', T },
  };
  const rng = new Rng(seed);
  const model = createModel(arch, rng);
  for (let l = 0; l < nLayers; l++) {
    const ba = model.params.get(`layers.${l}.b_a`)!.data;
    for (let j = 0; j < units; j++) ba[j] = rng.normal() * gainSpread;
  }
  const x = new Float64Array(T * B);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const y = new Float64Array(B);
  for (let b = 0; b < B; b++) y[b] = x[b];
  const fr = forward(model, x, T, B);
  const loss = computeLoss(arch, fr.out, { y });
  const H = units;
  const at = (arr: Float64Array, t: number, b: number, j: number) => arr[(t * B + b) * H + j];

  const bistLayers: BistabilityLayer[] = fr.layers.map((tr, l) => {
    const A = tr.fwd.gates.a;
    const C = tr.fwd.gates.c;
    const h = tr.fwd.h;
    const U = brcInputDrive(layerParams(model, l), tr.x, tr.shape);
    const grid = <V>(f: (t: number, j: number) => V): V[][] =>
      Array.from({ length: T }, (_, t) => Array.from({ length: H }, (_, j) => f(t, j)));
    const three = (t: number, b: number, j: number) => at(A, t, b, j) > 1 && Math.abs(at(U, t, b, j)) < band(at(A, t, b, j));
    const fixedPoints = grid((t, j) => (three(t, 0, j) ? 3 : 1));
    const branch = grid((t, j) => (three(t, 0, j) ? sign(at(h, t, 0, j)) : sign(at(U, t, 0, j))));
    const flips: Flip[] = [];
    const neurons: NeuronSummary[] = [];
    for (let j = 0; j < H; j++) {
      let last = 0;
      let run = 0;
      let longest = 0;
      let count = 0;
      let bist = 0;
      for (let t = 0; t < T; t++) {
        const br = branch[t][j];
        if (at(A, t, 0, j) > 1) bist++;
        if (br !== 0 && last !== 0 && br !== last) {
          flips.push({ neuron: j, t, from: last as -1 | 1, to: br as -1 | 1 });
          count++;
          run = 0;
        }
        if (br !== 0) last = br;
        run++;
        longest = Math.max(longest, run);
      }
      neurons.push({ fractionBistable: bist / T, longestHold: longest, flipCount: count });
    }
    const meanOver = (f: (t: number, b: number, j: number) => number) =>
      Array.from({ length: T }, (_, t) => {
        let s = 0;
        for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) s += f(t, b, j);
        return s / (B * H);
      });
    return {
      layer: l,
      cell,
      units: H,
      T,
      method: 'gain',
      a: grid((t, j) => at(A, t, 0, j)),
      bistable: grid((t, j) => (at(A, t, 0, j) > 1 ? 1 : 0)),
      fixedPoints,
      branch,
      h: grid((t, j) => at(h, t, 0, j)),
      c: grid((t, j) => at(C, t, 0, j)),
      drive: grid((t, j) => at(U, t, 0, j)),
      flips,
      neurons,
      fractionBistable: meanOver((t, b, j) => (at(A, t, b, j) > 1 ? 1 : 0)),
      fractionTrulyBistable: meanOver((t, b, j) => (three(t, b, j) ? 1 : 0)),
      meanC: meanOver((t, b, j) => at(C, t, b, j)),
    };
  });

  // Backpropagation through the layers, keeping each layer's dL/dh_t.
  const W = model.params.get('readout.kernel')!.data;
  let dh: Float64Array = new Float64Array(T * B * H);
  for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) dh[((T - 1) * B + b) * H + j] = W[j] * loss.dOut[b];
  const gradLayers: GradientFlowLayer[] = new Array(nLayers);
  for (let l = nLayers - 1; l >= 0; l--) {
    const tr = fr.layers[l];
    const res = referenceCell(cell).backward(layerParams(model, l), tr.x, tr.fwd, dh, tr.shape);
    const norm: number[] = [];
    const perNeuron: number[][] = [];
    for (let t = 0; t < T; t++) {
      let s = 0;
      const row = new Array(H).fill(0);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          const g = res.dh[(t * B + b) * H + j];
          s += g * g;
          row[j] += Math.abs(g) / B;
        }
      }
      norm.push(Math.sqrt(s));
      perNeuron.push(row);
    }
    // Least squares of log10 norm on t: the slope gives the decay constant backward in time.
    const pts = norm.map((v, t) => [t, Math.log(v)] as const).filter(([, v]) => Number.isFinite(v));
    const mt = pts.reduce((s, [t]) => s + t, 0) / pts.length;
    const mv = pts.reduce((s, [, v]) => s + v, 0) / pts.length;
    const slope = pts.reduce((s, [t, v]) => s + (t - mt) * (v - mv), 0) / pts.reduce((s, [t]) => s + (t - mt) ** 2, 0);
    const pos = norm.filter((v) => v > 0);
    const dynamicRange = Math.max(...pos) / Math.min(...pos);
    gradLayers[l] = {
      layer: l,
      norm,
      perNeuron,
      jacobianNorm: norm.map((v) => v / norm[T - 1]),
      decay: { kind: slope > 0 ? 'decay' : 'no-decay', tau: slope > 0 ? 1 / slope : null, dynamicRange },
      vanishing: dynamicRange > 1e3,
      exploding: false,
    };
    dh = res.dx;
  }

  const delays = [5, 10, 20, 40, 80];
  const tauMem = 10 + (seed % 5) * 5;
  const retention = {
    delays,
    mse: delays.map((d) => 1 - 0.9 * Math.exp(-d / tauMem)),
    probe: {
      lambda: 1e-3,
      trainSequences: 256,
      testSequences: 128,
      layers: Array.from({ length: nLayers }, (_, l) => ({
        layer: l,
        r2: Array.from({ length: T }, (_, t) => 0.95 * Math.exp(-t / (tauMem * (l + 1)))),
      })),
    },
  };

  const spiral = (cx: number, cy: number, r0: number, phase: number): [number, number][] =>
    Array.from({ length: 40 }, (_, k) => [
      cx + r0 * Math.exp(-k / 10) * Math.cos(phase + k / 3),
      cy + r0 * Math.exp(-k / 10) * Math.sin(phase + k / 3),
    ]);
  // Per-sequence series behind the fractions' intervals (as core/diagnostics/bistability attaches them).
  bistLayers.forEach((L, l) => {
    const { a, c } = fr.layers[l].fwd.gates;
    attachSeries(L, { fractionBistable: perSequenceMeans(a, T, B, H, 'above-one'), meanC: perSequenceMeans(c, T, B, H) });
  });
  const bl0 = bistLayers[0];
  const fpState = (v: number) => Array.from({ length: H }, (_, j) => v * (j % 2 ? 1 : -1));
  const point = (pca: [number, number], stability: 'stable' | 'unstable' | 'marginal', slow = false, v = 0.5) => ({
    state: fpState(v),
    residual: slow ? 1e-2 : 1e-9,
    maxEigenvalue: stability === 'stable' ? 0.8 : stability === 'unstable' ? 1.3 : 1.0,
    stability,
    slow,
    pca,
  });
  const fracAll = bistLayers.map((L) => L.fractionBistable.reduce((s, v) => s + v, 0) / T);
  return {
    version: REPORT_VERSION,
    createdAt: '2025-01-01T00:00:00.000Z',
    model: { architecture: arch, name: opts.name, paramCount: [...model.params.values()].reduce((s, p) => s + p.data.length, 0) },
    input: { source: 'task', task: 'copy', T, B, seed, loss: loss.loss },
    bistability: { layers: bistLayers, input: inputAlignment(x, T, B, 1, 'copy', 0, bistLayers) },
    gradientFlow: { layers: gradLayers },
    retention,
    fixedPoints: {
      layer: 0,
      input: [0],
      points: [
        point([-1.5, 0.2], 'stable'),
        point([1.4, -0.1], 'stable', false, -0.5),
        point([0, 0], 'unstable', false, 0),
        point([0.3, 1.1], 'marginal'),
        point([-0.4, -1.0], 'stable', true),
      ],
      trajectories: [spiral(-1.5, 0.2, 1.2, 0), spiral(1.4, -0.1, 1.0, 2), spiral(-1.5, 0.2, 0.8, 4)],
      observed: Array.from({ length: T }, (_, t): [number, number] => [bl0.h[t][0] * 2, bl0.h[t][1] * 2]),
      explainedVariance: [0.61, 0.22],
    },
    diagnosis: [
      ...fracAll.map((f, l) => ({
        text: `Layer ${l + 1}: ${Math.round(f * 100)}% of neuron-steps have a > 1 (able to hold a bit).`,
        severity: (f > 0.2 ? 'good' : 'info') as 'good' | 'info',
        refs: [`bistability.layers[${l}].fractionBistable`],
      })),
      ...gradLayers.map((g, l) => ({
        text: `Layer ${l + 1}: the gradient ${g.decay.kind === 'decay' ? `decays with τ ≈ ${g.decay.tau!.toFixed(1)} steps` : 'does not decay'}.`,
        severity: (g.vanishing ? 'warning' : 'info') as 'warning' | 'info',
        refs: [`gradientFlow.layers[${l}].decay`],
      })),
    ],
    timings: { bistability: 1, gradientFlow: 1 },
  };
}
