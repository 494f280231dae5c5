/**
 * A stacked recurrent network with a dense readout: creation, forward pass, task losses and full
 * backpropagation through time. Cell math is delegated to CellDef implementations (reference or fast).
 */
import { recycleF64, takeF64 } from '../util/f64-pool';
import { layerCell, referenceCell } from '../cells/index';
import type { CellDef, CellForward, CellKind, ForwardOptions, LayerParams, SeqShape } from '../cells/types';
import { glorotUniform, initParam } from '../util/init';
import type { Rng } from '../util/rng';
import type { Architecture } from './architecture';
import type { Model, ModelParams } from './model';

export type CellResolver = (kind: CellKind) => CellDef;

export interface LayerTrace {
  x: Float64Array;
  fwd: CellForward;
  shape: SeqShape;
}

export interface ForwardResult {
  T: number;
  B: number;
  layers: LayerTrace[];
  /** Readout before the softmax (logits) or the linear outputs: [B, k], or [T, B, k] when perStep. */
  out: Float64Array;
}

/** Targets for the model's loss: regression values, or class labels for a softmax readout. */
export interface Targets {
  /** [B, k] (or [T, B, k] per step) regression targets. */
  y?: Float64Array;
  /** [B] (or [T, B] per step) class indices. */
  labels?: Int32Array;
}

export interface LossResult {
  loss: number;
  /** dLoss/dOut, same layout as ForwardResult.out. */
  dOut: Float64Array;
  /** MSE for linear readouts, accuracy for softmax readouts. */
  metric: number;
  metricName: 'mse' | 'accuracy';
}

export function layerInputSize(arch: Architecture, i: number): number {
  return i === 0 ? arch.inputSize : arch.layers[i - 1].units;
}

export function createModel(arch: Architecture, rng: Rng): Model {
  const params: ModelParams = new Map();
  arch.layers.forEach((layer, i) => {
    const def = layerCell(layer);
    for (const spec of def.paramSpecs(layerInputSize(arch, i), layer.units)) {
      params.set(`layers.${i}.${spec.name}`, { shape: [...spec.shape], data: initParam(rng, spec.init, spec.shape) });
    }
  });
  const H = arch.layers[arch.layers.length - 1].units;
  const k = arch.readout.units;
  params.set('readout.kernel', { shape: [H, k], data: glorotUniform(rng, H, k) });
  params.set('readout.bias', { shape: [k], data: new Float64Array(k) });
  return { arch, params };
}

export function layerParams(model: Model, i: number): LayerParams {
  const prefix = `layers.${i}.`;
  const out: LayerParams = {};
  for (const [name, t] of model.params) if (name.startsWith(prefix)) out[name.slice(prefix.length)] = t.data;
  return out;
}

function param(model: Model, name: string): Float64Array {
  const t = model.params.get(name);
  if (!t) throw new Error(`model has no parameter "${name}"`);
  return t.data;
}

/**
 * The model over x [T, B, inputSize]. `initialStates[i]`, when given, is layer i's state at t = −1
 * ([B, stateSize]; see CellDef.forward), so that a long sequence can run as consecutive pieces. `opts` goes to
 * every layer (trace: false for passes that read only h and the final state).
 */
export function forward(
  model: Model,
  x: Float64Array,
  T: number,
  B: number,
  cells: CellResolver = referenceCell,
  initialStates?: readonly (Float64Array | undefined)[],
  opts?: ForwardOptions,
): ForwardResult {
  const { arch } = model;
  if (x.length !== T * B * arch.inputSize) {
    throw new Error(`input has ${x.length} values, expected T*B*inputSize = ${T}*${B}*${arch.inputSize}`);
  }
  const layers: LayerTrace[] = [];
  let below: CellForward | null = null;
  arch.layers.forEach((layer, i) => {
    const shape: SeqShape = { T, B, inputSize: layerInputSize(arch, i), units: layer.units };
    const def = layerCell(layer, cells);
    // A float32 engine's layer takes the layer below's h by identity, unconverted (CellForward.pendingH);
    // the trace's x is h itself, converted when someone reads it.
    const src = below;
    const lx = src && def.takesPendingInput && src.pendingH ? src.pendingH : (src?.h ?? x);
    const fwd = def.forward(layerParams(model, i), lx, shape, initialStates?.[i], opts);
    layers.push(
      src
        ? {
            get x() {
              return src.h;
            },
            fwd,
            shape,
          }
        : { x: lx, fwd, shape },
    );
    below = fwd;
  });
  const H = arch.layers[arch.layers.length - 1].units;
  const k = arch.readout.units;
  const W = param(model, 'readout.kernel');
  const bias = param(model, 'readout.bias');
  // The readout reads the top layer's float32 original when there is one: the same values as h (h is its
  // exact widening), without converting all of h for the rows it reads.
  const topFwd = layers[layers.length - 1].fwd;
  const top: ArrayLike<number> = topFwd.float32?.()?.h ?? topFwd.h;
  const rows = arch.readout.perStep ? T * B : B;
  const offset = arch.readout.perStep ? 0 : (T - 1) * B * H;
  const out = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const h0 = offset + r * H;
    for (let j = 0; j < k; j++) {
      let s = bias[j];
      for (let u = 0; u < H; u++) s += top[h0 + u] * W[u * k + j];
      out[r * k + j] = s;
    }
  }
  return { T, B, layers, out };
}

/** Softmax of each row of `logits` [rows, k]. */
export function softmaxRows(logits: Float64Array, k: number): Float64Array {
  const p = new Float64Array(logits.length);
  for (let r = 0; r < logits.length / k; r++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, logits[r * k + j]);
    let s = 0;
    for (let j = 0; j < k; j++) s += p[r * k + j] = Math.exp(logits[r * k + j] - m);
    for (let j = 0; j < k; j++) p[r * k + j] /= s;
  }
  return p;
}

/** The task loss (batch mean): MSE for linear readouts, cross-entropy for softmax readouts. */
export function computeLoss(arch: Architecture, out: Float64Array, targets: Targets): LossResult {
  const k = arch.readout.units;
  const rows = out.length / k;
  const dOut = new Float64Array(out.length);
  if (arch.readout.activation === 'linear') {
    const y = targets.y;
    if (!y || y.length !== out.length) throw new Error(`regression targets must have ${out.length} values, got ${y?.length ?? 0}`);
    let s = 0;
    for (let i = 0; i < out.length; i++) {
      const d = out[i] - y[i];
      s += d * d;
      dOut[i] = (2 * d) / out.length;
    }
    const mse = s / out.length;
    return { loss: mse, dOut, metric: mse, metricName: 'mse' };
  }
  const labels = targets.labels;
  if (!labels || labels.length !== rows) throw new Error(`class labels must have ${rows} values, got ${labels?.length ?? 0}`);
  const p = softmaxRows(out, k);
  let loss = 0;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    if (!(label >= 0 && label < k)) throw new Error(`label ${label} outside 0..${k - 1}`);
    loss -= Math.log(Math.max(p[r * k + label], 1e-300));
    let best = 0;
    for (let j = 0; j < k; j++) {
      dOut[r * k + j] = (p[r * k + j] - (j === label ? 1 : 0)) / rows;
      if (p[r * k + j] > p[r * k + best]) best = j;
    }
    if (best === label) correct++;
  }
  return { loss: loss / rows, dOut, metric: correct / rows, metricName: 'accuracy' };
}

/** Gradients of every parameter given dLoss/dOut; keys are the parameter names. */
export function backward(
  model: Model,
  fr: ForwardResult,
  dOut: Float64Array,
  cells: CellResolver = referenceCell,
): Map<string, Float64Array> {
  const { arch } = model;
  const { T, B } = fr;
  const grads = new Map<string, Float64Array>();
  const L = arch.layers.length;
  const H = arch.layers[L - 1].units;
  const k = arch.readout.units;
  const W = param(model, 'readout.kernel');
  const top = fr.layers[L - 1].fwd.h;
  const rows = arch.readout.perStep ? T * B : B;
  const offset = arch.readout.perStep ? 0 : (T - 1) * B * H;
  const dW = new Float64Array(H * k);
  const db = new Float64Array(k);
  // dL/dh of each layer is read once, by the backward of that layer: recycled right after (core/util/f64-pool).
  let dh: Float64Array = takeF64(T * B * H, true);
  for (let r = 0; r < rows; r++) {
    const h0 = offset + r * H;
    for (let j = 0; j < k; j++) {
      const g = dOut[r * k + j];
      if (g === 0) continue;
      db[j] += g;
      for (let u = 0; u < H; u++) {
        dW[u * k + j] += top[h0 + u] * g;
        dh[h0 + u] += W[u * k + j] * g;
      }
    }
  }
  grads.set('readout.kernel', dW);
  grads.set('readout.bias', db);
  for (let i = L - 1; i >= 0; i--) {
    const tr = fr.layers[i];
    const res = layerCell(arch.layers[i], cells).backward(layerParams(model, i), tr.x, tr.fwd, dh, tr.shape, { dh: false });
    for (const [name, g] of Object.entries(res.grads)) grads.set(`layers.${i}.${name}`, g);
    recycleF64(dh);
    dh = res.dx;
  }
  recycleF64(dh);
  return grads;
}

export interface StepResult extends LossResult {
  grads: Map<string, Float64Array>;
  fr: ForwardResult;
}

export function lossAndGrads(
  model: Model,
  x: Float64Array,
  T: number,
  B: number,
  targets: Targets,
  cells: CellResolver = referenceCell,
): StepResult {
  const fr = forward(model, x, T, B, cells);
  const lr = computeLoss(model.arch, fr.out, targets);
  const grads = backward(model, fr, lr.dOut, cells);
  return { ...lr, grads, fr };
}
