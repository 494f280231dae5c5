/**
 * The user's own PyTorch model as a Model of the lens: each recurrent cell the helper discovered becomes a
 * custom layer whose CellDef runs in the user's Python (forward with recorded h_t and gates, vector-Jacobian
 * products as backward, one-step maps through initialState), and the user's nn.Linear head becomes the
 * model's readout. Every analysis then runs unchanged on it, without knowing where its numbers came from.
 */
import { createHash } from 'node:crypto';
import type { CellDef, CellForward, SeqShape } from '../cells/types';
import { registerCustomCell } from '../cells/custom-registry';
import type { Architecture, ReadoutActivation, TaskInfo } from '../model/architecture';
import type { Model } from '../model/model';
import { forward } from '../model/network';
import { Rng } from '../util/rng';
import { HelperProcess, TorchBridgeError, type Dtype, type HelperArray } from './helper-process';
import { helperScriptPath } from './python';

export { TorchBridgeError } from './helper-process';

export interface TorchModelSpec {
  /** The user's Python file and the function or class in it that returns the nn.Module. */
  file: string;
  name: string;
  /** State dict (.pt/.pth loaded with weights_only=True, or .safetensors); absent: the module's own initialisation. */
  weights?: string;
  /** Keyword arguments of the factory. */
  args?: Record<string, unknown>;
  /** Names of the cell submodules (bottom first) instead of the automatic discovery. */
  cells?: string[];
  device?: 'cpu' | 'cuda';
  python: string;
  /** Features per time step of the inputs the model will see. */
  inputSize: number;
  readoutActivation: ReadoutActivation;
  task?: TaskInfo;
  /** Most time one request to the helper may take (default 10 min). */
  timeoutMs?: number;
}

export interface TorchLayerInfo {
  name: string;
  units: number;
  stateSize: number;
  gates: string[];
}

export interface TorchModel {
  model: Model;
  layers: TorchLayerInfo[];
  readoutName: string;
  torchVersion: string;
  /** Parameters of the whole nn.Module (the lens's own model holds only the readout's). */
  paramCount: number;
  /** The user's own forward on x [T, B, inputSize] (time-major): [B, k] or [T, B, k] like the lens's readout. */
  userForward(x: Float64Array, T: number, B: number): Float64Array;
  close(): void;
}

let sessions = 0;

export function openTorchModel(spec: TorchModelSpec): TorchModel {
  const proc = new HelperProcess({ python: spec.python, script: helperScriptPath(), timeoutMs: spec.timeoutMs ?? 600_000 });
  try {
    const open = proc.request({
      op: 'open',
      file: spec.file,
      name: spec.name,
      weights: spec.weights,
      args: spec.args ?? {},
      cells: spec.cells,
      device: spec.device ?? 'cpu',
      inputSize: spec.inputSize,
    });
    const h = open.header as {
      torch: string;
      dtype: Dtype;
      paramCount: number;
      layers: TorchLayerInfo[];
      readout: { name: string; perStep: boolean; units: number };
    };
    const session = ++sessions;
    const layers = h.layers.map((info, i) => {
      const sha256 = createHash('sha256').update(`torch\0${session}\0${spec.file}\0${spec.name}\0${info.name}`).digest('hex');
      registerCustomCell(sha256, bridgeCell(proc, h.dtype, i, info));
      return { cell: 'custom' as const, units: info.units, custom: { name: safeName(info.name), source: spec.file, sha256 } };
    });
    const arch: Architecture = {
      inputSize: spec.inputSize,
      layers,
      readout: { units: h.readout.units, activation: spec.readoutActivation, perStep: h.readout.perStep },
      ...(spec.task ? { task: spec.task } : {}),
    };
    const H = h.layers[h.layers.length - 1].units;
    const params = new Map([
      ['readout.kernel', { shape: [H, h.readout.units], data: f64(open.arrays.kernel) }],
      ['readout.bias', { shape: [h.readout.units], data: f64(open.arrays.bias) }],
    ]);
    const userForward = (x: Float64Array, T: number, B: number): Float64Array => {
      const y = proc.request({ op: 'model' }, { x: { shape: [T, B, spec.inputSize], data: x } }, h.dtype).arrays.y;
      const out = f64(y);
      if (!h.readout.perStep) return out;
      return batchToTimeMajor(out, B, T, h.readout.units);
    };
    const model: Model = { arch, params };
    checkReplay(model, userForward);
    return {
      model,
      layers: h.layers,
      readoutName: h.readout.name,
      torchVersion: h.torch,
      paramCount: h.paramCount,
      userForward,
      close: () => proc.close(),
    };
  } catch (e) {
    proc.close();
    throw e;
  }
}

/**
 * The lens replays the model as its cells in a stack plus the linear head; refuses a model whose own forward
 * differs from that replay (work between the cells, a non-zero initial state, another calling convention).
 */
function checkReplay(model: Model, userForward: (x: Float64Array, T: number, B: number) => Float64Array): void {
  const T = 5;
  const B = 2;
  const rng = new Rng(7);
  const x = Float64Array.from({ length: T * B * model.arch.inputSize }, () => rng.normal());
  const mine = forward(model, x, T, B).out;
  const theirs = userForward(x, T, B);
  let worst = 0;
  let scale = 1e-3;
  for (let i = 0; i < mine.length; i++) {
    worst = Math.max(worst, Math.abs(mine[i] - theirs[i]));
    scale = Math.max(scale, Math.abs(theirs[i]));
  }
  if (mine.length !== theirs.length || !(worst <= 1e-3 * scale)) {
    throw new TorchBridgeError(
      `the model's forward does more than its cells and its nn.Linear head (replaying them differs by ${worst.toPrecision(2)}): cells must be called as cell(x_t, state), state = their previous output, from a zero state, each cell reading the one below`,
    );
  }
}

/**
 * The CellDef of layer `layer`: every call is one request to the helper. Gates travel only when an analysis
 * reads them (most forwards, e.g. retention's and the probes', never do): the helper keeps them meanwhile.
 */
function bridgeCell(proc: HelperProcess, dtype: Dtype, layer: number, info: TorchLayerInfo): CellDef {
  let ids = 0;
  const inputs = (x: Float64Array, shape: SeqShape, init: Float64Array | undefined) => ({
    // The layer below's h goes back as the float32 the helper sent (the same values, no conversion).
    x: { shape: [shape.T, shape.B, shape.inputSize], data: sentH.get(x) ?? x },
    ...(init ? { h0: { shape: [shape.B, info.stateSize], data: init } } : {}),
  });
  /** The gates `names` the helper kept for forward `id`; recomputed there from the inputs when it no longer has them. */
  const fetchGates = (id: string, names: readonly string[], x: Float64Array, shape: SeqShape, init: Float64Array | undefined) => {
    let r = proc.request({ op: 'gates', layer, id });
    if (r.header.missing) r = proc.request({ op: 'gates', layer, id }, inputs(x, shape, init), dtype);
    const gates: Record<string, Float64Array> = {};
    for (const g of names) gates[g] = f64(r.arrays[`gate:${g}`]);
    return gates;
  };
  const lazyGates = (names: readonly string[], load: () => Record<string, Float64Array>): Record<string, Float64Array> => {
    let loaded: Record<string, Float64Array> | undefined;
    const gates: Record<string, Float64Array> = {};
    for (const g of names) Object.defineProperty(gates, g, { enumerable: true, get: () => (loaded ??= load())[g] });
    return gates;
  };
  return {
    kind: 'custom',
    gateNames: info.gates,
    paramSpecs: () => [],
    stateSize: () => info.stateSize,
    forward(_p, x, shape, initialState, opts): CellForward {
      checkShape(shape, info, x);
      if (initialState && initialState.length !== shape.B * info.stateSize) {
        throw new Error(`initial state: ${initialState.length} values, expected ${shape.B}×${info.stateSize}`);
      }
      const id = `${layer}:${++ids}`;
      // Without its trace the helper keeps only the state's c ("cell"), which finalState reads.
      const trace = opts?.trace !== false;
      const names = trace ? info.gates : info.gates.filter((g) => g === 'cell');
      const r = proc.request({ op: 'forward', layer, id, lazyGates: true, trace }, inputs(x, shape, initialState), dtype);
      const cache: BridgeCache = { id, initialState, traceless: !trace };
      return withH(r.arrays.h, { gates: lazyGates(names, () => fetchGates(id, names, x, shape, initialState)), cache });
    },
    backward(_p, x, fwd, dhOut, shape) {
      const { id, initialState } = traced(fwd);
      const r = proc.request(
        { op: 'backward', layer, id },
        { ...inputs(x, shape, initialState), dhOut: { shape: [shape.T, shape.B, info.units], data: dhOut } },
        dtype,
      );
      return { dx: f64(r.arrays.dx), dh: f64(r.arrays.dh), grads: {} };
    },
    backwardMany(_p, x, fwd, seeds, shape) {
      const { initialState } = traced(fwd);
      const row = shape.B * info.units;
      const n = shape.T * row;
      // Only the seeds travel (each pass is seeded at the last step); the helper sends dh as it computed it.
      const all = new Float64Array(seeds.length * row);
      seeds.forEach((d, q) => {
        if (d.length !== row) throw new Error(`seed ${q} has ${d.length} values, expected ${shape.B}×${info.units}`);
        all.set(d, q * row);
      });
      const r = proc.request(
        { op: 'vjps', layer },
        { ...inputs(x, shape, initialState), seeds: { shape: [seeds.length, shape.B, info.units], data: all } },
        dtype,
      );
      const dh = sent(r.arrays.dh);
      if (dh.data.length !== seeds.length * n)
        throw new TorchBridgeError(`the PyTorch helper sent ${dh.data.length} gradient values, expected ${seeds.length * n}`);
      return { data: dh.data, passes: seeds.length, passStride: n, timeStride: row };
    },
  };
}

interface BridgeCache {
  id: string;
  initialState?: Float64Array;
  traceless: boolean;
}

/** A forward's cache for a backward pass, which the contract refuses for a forward run without its trace. */
function traced(fwd: CellForward): BridgeCache {
  const cache = fwd.cache as BridgeCache;
  if (cache.traceless) throw new Error('backward of a forward pass run without its trace (trace: false)');
  return cache;
}

function checkShape(shape: SeqShape, info: TorchLayerInfo, x: Float64Array): void {
  if (shape.units !== info.units) throw new Error(`cell ${info.name} has ${info.units} units, not ${shape.units}`);
  if (x.length !== shape.T * shape.B * shape.inputSize)
    throw new Error(`input has ${x.length} values, expected ${shape.T}×${shape.B}×${shape.inputSize}`);
}

/** The float32 h the helper sent, by the float64 h made from it: a next bridged layer's input travels as sent. */
const sentH = new WeakMap<Float64Array, Float32Array>();

/**
 * A forward result with `h` from the helper's answer. A float32 h stays as sent (the float32 view analyses
 * read, like a float32 engine's); its float64 copy is made on first read of `h`, which retention's and the
 * probes' forwards never do for most layers.
 */
function withH(a: HelperArray | undefined, rest: Omit<CellForward, 'h'>): CellForward {
  const h32 = sent(a).data;
  if (h32 instanceof Float64Array) return { ...rest, h: h32 };
  let h64: Float64Array | undefined;
  const lazy: Omit<CellForward, 'h'> = { ...rest, float32: () => ({ h: h32 }) };
  return Object.defineProperty(lazy, 'h', {
    enumerable: true,
    get: (): Float64Array => {
      if (!h64) {
        h64 = Float64Array.from(h32);
        sentH.set(h64, h32);
      }
      return h64;
    },
  }) as CellForward;
}

/** An array the helper's answer must carry. */
function sent(a: HelperArray | undefined): HelperArray {
  if (!a) throw new TorchBridgeError('the PyTorch helper left out an array it should have sent');
  return a;
}

function f64(a: HelperArray | undefined): Float64Array {
  const { data } = sent(a);
  return data instanceof Float64Array ? data : Float64Array.from(data);
}

/** [B, T, k] → [T, B, k]. */
function batchToTimeMajor(a: Float64Array, B: number, T: number, k: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out.set(a.subarray((b * T + t) * k, (b * T + t + 1) * k), (t * B + b) * k);
  return out;
}

/** A module path as a custom cell name (letters, digits, "_", "." and "-"). */
function safeName(name: string): string {
  const s = name.replace(/[^\w.-]/g, '_').slice(0, 64);
  return /^[A-Za-z0-9]/.test(s) ? s : `cell${s}`.slice(0, 64);
}
