/**
 * The API for user-defined recurrent cells. A cell is a TypeScript or JavaScript module whose default export
 * (or `module.exports`) is a {@link CellDefinition}, usually written with {@link defineCell}:
 *
 * ```ts
 * import { defineCell } from 'rnn-memory-lens';
 *
 * export default defineCell({
 *   name: 'leaky-tanh',
 *   params: (inputSize, units) => [
 *     { name: 'W', shape: [inputSize, units], init: 'glorot_uniform' },
 *     { name: 'R', shape: [units, units], init: 'orthogonal' },
 *     { name: 'b', shape: [units], init: 'zeros' },
 *     { name: 'alpha', shape: [units], init: 'zeros' },
 *   ],
 *   step: (tf, p, x, state) => {
 *     const leak = tf.sigmoid(p.alpha);
 *     const cand = tf.tanh(tf.add(tf.add(tf.matMul(x, p.W), tf.matMul(state, p.R)), p.b));
 *     return { state: tf.add(tf.mul(leak, state), tf.mul(tf.sub(1, leak), cand)) };
 *   },
 * });
 * ```
 *
 * The module `rnn-memory-lens` is provided by the loader (it exports {@link defineCell}); the TensorFlow.js
 * namespace arrives as `step`'s first argument, so a cell needs no installed packages. Gradients come from
 * TensorFlow.js autodiff, in float32. See docs/custom-cells.md.
 */
import type * as tfc from '@tensorflow/tfjs-core';
// Brings the chained tensor methods (x.add(y), x.matMul(w), …) into the Tensor type; the loader installs them.
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import type { InitKind } from '../util/init';

/** The `@tensorflow/tfjs-core` namespace (CPU backend, or the native tfjs-node backend when it is installed). */
export type Tf = typeof tfc;
export type Tensor = tfc.Tensor;
export type Tensor1D = tfc.Tensor1D;
export type Tensor2D = tfc.Tensor2D;

/** How a parameter starts: Keras-compatible initialisers ('lstm_bias' = ones on the second quarter). */
export type ParamInit = InitKind;

/** One trainable parameter. Stored in model files as `layers.{i}.{name}`. */
export interface ParamDecl {
  /** An identifier (letters, digits, `_`; not starting with a digit), unique within the cell. */
  name: string;
  /** Positive integer dimensions, e.g. `[inputSize, units]`; 'glorot_uniform' and 'orthogonal' read it as [rows, rest]. */
  shape: number[];
  init: ParamInit;
}

/** The parameters handed to `step`, by name, as float32 tensors of their declared shapes. */
export type CellParams = Record<string, Tensor>;

/** Sizes of the layer a step runs in. */
export interface StepContext {
  inputSize: number;
  units: number;
  /** The state size S (`stateSize(units)`). */
  stateSize: number;
}

/** What one step returns. */
export interface StepOutput {
  /** The new recurrent state, [B, S]. */
  state: Tensor;
  /**
   * The layer's output h_t, [B, units]: what the readout and the next layer see. Default: the state when
   * S = units, else its first `units` columns. Keep h as the state's first columns (or leave it out) to get
   * the single-step diagnostics (neuron self-maps, fixed points).
   */
  h?: Tensor;
  /**
   * Optional gate traces for the diagnostics, each [B, units], with the same names at every step. The name
   * `cell` is reserved (for a 2·units state it is the state's second half, as for LSTM).
   */
  gates?: Record<string, Tensor>;
}

/** A recurrent cell. Every function must be pure: the same arguments give the same result. */
export interface CellDefinition {
  /** Shown in reports and stored in model files: 1–64 letters, digits, `_`, `.` or `-`. */
  name: string;
  /** State size S for a layer of `units` units (default: units). Must be at least `units` unless `step` returns `h`. */
  stateSize?: (units: number) => number;
  /** The parameters of a layer with this input size and number of units. */
  params: (inputSize: number, units: number) => ParamDecl[];
  /**
   * One time step for a batch: x is [B, inputSize], state is [B, S] (zeros at t = 0). Use `tf` ops only
   * (no `dataSync`/`arraySync`: gradients flow through the ops), and do not dispose the arguments.
   */
  step: (tf: Tf, p: CellParams, x: Tensor2D, state: Tensor2D, ctx: StepContext) => StepOutput;
}

/** Returns `def` unchanged; it exists for type checking and editor completion. */
export function defineCell<T extends CellDefinition>(def: T): T {
  return def;
}
