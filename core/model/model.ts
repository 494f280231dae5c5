/** A model: its architecture plus named parameter tensors (float64 in memory). */
import type { Architecture } from './architecture';

export interface Tensor {
  shape: number[];
  data: Float64Array;
}

/** Parameters keyed by file name: `layers.{i}.{name}`, `readout.kernel`, `readout.bias`. */
export type ModelParams = Map<string, Tensor>;

export interface Model {
  arch: Architecture;
  params: ModelParams;
}

export function tensorSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
