/**
 * The contract every recurrent cell implements. Layouts are time-major and row-major:
 * a sequence batch x has shape [T, B, inputSize] flattened as x[(t*B + b)*inputSize + i];
 * states h have shape [T, B, H] (h_1 … h_T; h_0 = 0 is implicit).
 *
 * The whole sequence goes through one call (forward) and one call (backward), so that an engine can
 * replace the per-step loops with fused kernels without changing callers.
 */
/** The cells that can be trained and that engines implement. */
export type CellKind = 'brc' | 'nbrc' | 'gru' | 'lstm';
export const CELL_KINDS: readonly CellKind[] = ['brc', 'nbrc', 'gru', 'lstm'];
/**
 * Every cell a model layer can hold: the trainable kinds plus cells that only imported models use
 * (Keras SimpleRNN / torch.nn.RNN). These always run on the reference code (see layerCell in index.ts).
 */
export type LayerCellKind = CellKind | 'simple_rnn' | 'custom';
export const LAYER_CELL_KINDS: readonly LayerCellKind[] = [...CELL_KINDS, 'simple_rnn', 'custom'];

/**
 * A user-defined cell (core/custom): its definition's name, the source file (relative to the folder of the
 * file that stores the reference, '/'-separated; absolute paths are allowed) and the SHA-256 of that file.
 */
export interface CustomCellRef {
  name: string;
  source: string;
  sha256: string;
}

/**
 * Gate nonlinearity of GRU/LSTM: the logistic sigmoid, or a "hard" sigmoid clip(s·x + 0.5, 0, 1) with
 * s = 0.2 (Keras 2 and TensorFlow.js) or s = 1/6 (Keras 3, which redefined hard_sigmoid).
 */
export type RecurrentActivation = 'sigmoid' | 'hard_sigmoid' | 'hard_sigmoid_keras3';
export const RECURRENT_ACTIVATIONS: readonly RecurrentActivation[] = ['sigmoid', 'hard_sigmoid', 'hard_sigmoid_keras3'];
export type SimpleActivation = 'tanh' | 'relu';
export const SIMPLE_ACTIVATIONS: readonly SimpleActivation[] = ['tanh', 'relu'];

/** Options that change a cell's math; absent means the default (sigmoid gates, reset_after, tanh). */
export interface CellOptions {
  /** gru, lstm. */
  recurrentActivation?: RecurrentActivation;
  /** gru: true = reset gate after the recurrent product (Keras 3 / PyTorch); false = before it (Keras 1/2, TF.js default). */
  resetAfter?: boolean;
  /** simple_rnn. */
  activation?: SimpleActivation;
}

/** How a parameter is initialised (core/util/init implements each, matching Keras). */
export type InitKind = 'glorot_uniform' | 'orthogonal' | 'zeros' | 'ones' | 'lstm_bias';

export interface ParamSpec {
  /** Name inside the layer, e.g. `U_a`; stored in files as `layers.{i}.{name}`. */
  name: string;
  shape: number[];
  init: InitKind;
}

/** A layer's parameters by name, each a flat row-major Float64Array of its spec's shape. */
export type LayerParams = Record<string, Float64Array>;

export interface CellForward {
  /** Hidden states h_1..h_T, [T, B, H]. */
  h: Float64Array;
  /** Gate activations per step, each [T, B, H] (names from CellDef.gateNames). */
  gates: Record<string, Float64Array>;
  /** Whatever the backward pass needs (pre-activations etc.); opaque to callers. */
  cache: unknown;
  /**
   * Float32 originals an engine that computes in float32 may expose (`h` and the gates; `dh` after backward),
   * so readers that only scan the values (diagnostics) skip the float64 conversion. A function, so the views
   * can expire (undefined) when the engine reuses its buffers; see float32View.
   */
  float32?: () => Readonly<Record<string, Float32Array>> | undefined;
  /**
   * The array `h` will be, possibly before it holds h (a float32 engine converts on first read). Only for the
   * input of a next layer whose cell says `takesPendingInput`: such a cell finds its engine's float32 original
   * by this array's identity and never reads its values. Everyone else reads `h`.
   */
  pendingH?: Float64Array;
}

/** The engine's float32 original of `name` ('h', a gate name, or 'dh') of a forward/backward result, if any. */
export function float32View(result: Pick<CellForward | CellBackward, 'float32'>, name: string): Float32Array | undefined {
  return result.float32?.()?.[name];
}

/** h as the engine holds it: its float32 original when it has one (exact: h is its widening), else h. */
export function hOf(fwd: CellForward): Float32Array | Float64Array {
  return float32View(fwd, 'h') ?? fwd.h;
}

/** A gate trace [T, B, H]: the engine's float32 original when it has one (no float64 copy of the batch). */
export function gateArray(fwd: CellForward, name: string): Float64Array | Float32Array {
  return float32View(fwd, name) ?? fwd.gates[name];
}

export interface CellBackward {
  /** dL/dx, [T, B, inputSize]. */
  dx: Float64Array;
  /** dL/dparam for every parameter, same shapes as the parameters. */
  grads: LayerParams;
  /** dL/dh_t of the total loss through every path, [T, B, H]; index t holds dL/dh_{t+1}. */
  dh: Float64Array;
  /**
   * Float32 originals an engine that computes in float32 may expose (`dh`),
   * so readers that only scan the values (diagnostics) skip the float64 conversion. A function, so the views
   * can expire (undefined) when the engine reuses its buffers; see float32View.
   */
  float32?: () => Readonly<Record<string, Float32Array>> | undefined;
}

export interface SeqShape {
  T: number;
  B: number;
  inputSize: number;
  units: number;
}

/**
 * The dh of k backward passes in whatever layout the engine produced them: pass q's dL/dh at step t of
 * sequence b is the `units` values of data from q·passStride + t·timeStride + b·units on.
 */
export interface PassRows {
  data: Float32Array | Float64Array;
  passes: number;
  passStride: number;
  timeStride: number;
  /** Gives pooled memory back (float32 engines); data must not be read after. */
  release?(): void;
}

/** Pass q's dh as its own [T, B, H] array (tests and callers that want one pass whole). */
export function passOf(rows: PassRows, q: number, shape: SeqShape): Float64Array {
  const { T, B, units: H } = shape;
  const out = new Float64Array(T * B * H);
  for (let t = 0; t < T; t++) {
    const o = q * rows.passStride + t * rows.timeStride;
    out.set(rows.data.subarray(o, o + B * H), t * B * H);
  }
  return out;
}

/** dhOut [T, B, H] that is zero but at the last step, where it is seed [B, H]. */
export function seededDhOut(seed: Float64Array, shape: SeqShape): Float64Array {
  const { T, B, units: H } = shape;
  const d = new Float64Array(T * B * H);
  d.set(seed, (T - 1) * B * H);
  return d;
}

/**
 * backwardMany by one backward pass per seed (cells without their own): the passes side by side
 * ([k][T][B][H], float64).
 */
export function backwardManyByPasses(
  def: Pick<CellDef, 'backward'>,
  p: LayerParams,
  x: Float64Array,
  fwd: CellForward,
  seeds: readonly Float64Array[],
  shape: SeqShape,
): PassRows {
  const n = shape.T * shape.B * shape.units;
  const data = new Float64Array(seeds.length * n);
  seeds.forEach((s, q) => data.set(def.backward(p, x, fwd, seededDhOut(s, shape), shape, { paramGrads: false }).dh, q * n));
  return { data, passes: seeds.length, passStride: n, timeStride: shape.B * shape.units };
}

export interface CellDef {
  kind: LayerCellKind;
  /** Names of the per-step gate traces exposed for diagnostics (BRC/nBRC a, c; GRU z, r; LSTM i, f, o, cell; SimpleRNN none). */
  gateNames: readonly string[];
  paramSpecs(inputSize: number, units: number): ParamSpec[];
  /**
   * Size of one sequence's recurrent state: units (h), or 2·units for LSTM (h then c; c_t is also the gate
   * trace "cell"). Optional: a cell that defines it promises that forward honours `initialState`; engines
   * that omit it only ever run from the zero state (see cellStateSize / supportsInitialState).
   */
  stateSize?(units: number): number;
  /**
   * Run the whole sequence from the zero state, or from `initialState` ([B, stateSize], row-major) when given.
   * backward stays correct for the parameters and x when an initial state was used (its own gradient is not
   * returned).
   */
  forward(p: LayerParams, x: Float64Array, shape: SeqShape, initialState?: Float64Array, opts?: ForwardOptions): CellForward;
  /**
   * Backpropagate through time. `dhOut` is dL/dh_t coming from outside the layer (readout and the layer
   * above), [T, B, H]; it is not modified.
   */
  backward(p: LayerParams, x: Float64Array, fwd: CellForward, dhOut: Float64Array, shape: SeqShape, opts?: BackwardOptions): CellBackward;
  /**
   * Optional: several backward passes of one forward at once, each seeded at the last step only: seeds[q]
   * ([B, H]) is pass q's dL/dh_{T−1}, zero before; the result holds every pass's dh. This is what the
   * Jacobian estimate needs (probe vectors vᵀ ∂h_{T−1}/∂h_t), in one kernel call over k·B rows or one
   * round trip (the PyTorch bridge). Callers fall back to one backward per seed without it.
   */
  backwardMany?(p: LayerParams, x: Float64Array, fwd: CellForward, seeds: readonly Float64Array[], shape: SeqShape): PassRows;
  /** forward accepts a lower float32 layer's CellForward.pendingH as x (see there). */
  takesPendingInput?: boolean;
}

export interface ForwardOptions {
  /**
   * false: the caller reads only h and the state after the last step (finalState; LSTM's c is its "cell" gate)
   * and runs no backward on the result, so an engine may leave out the other per-step traces (the wasm engine
   * then does not copy them out of its memory): their gates are absent and backward throws. Default true.
   */
  trace?: boolean;
}

export interface BackwardOptions {
  /**
   * false: the caller needs only dx and dh (diagnostics); an engine may then skip the parameter gradients
   * and return `grads` empty. Default true.
   */
  paramGrads?: boolean;
  /** false: the caller does not read the result's dh (training); an engine may then not keep it. Default true. */
  dh?: boolean;
}

/** Whether `def.forward` honours an initial state (single-step evaluation from an arbitrary state). */
export function supportsInitialState(def: CellDef): boolean {
  return typeof def.stateSize === 'function';
}

/** The recurrent state size of one sequence for `def` (units when the cell does not declare it). */
export function cellStateSize(def: CellDef, units: number): number {
  return def.stateSize ? def.stateSize(units) : units;
}
