/** Golden-file checks for imported models: run our forward pass on the stored input and compare with the stored output of the original framework. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { forward, softmaxRows } from '../../core/model/network';
import type { Model } from '../../core/model/model';

export interface Golden {
  note: string;
  answers?: Record<string, string>;
  /** [B][T][I] */
  x: number[][][];
  /** [B][k] or [B][T][k] */
  y: number[][] | number[][][];
  /** 'out' (default): the readout before any softmax; 'predict': probabilities for softmax readouts. */
  compare?: 'out' | 'predict';
}

export function readGolden(path: string): Golden {
  return JSON.parse(readFileSync(path, 'utf8')) as Golden;
}

/** Max |ours − theirs| after checking shapes; fails above tol. */
export function checkGolden(model: Model, g: Golden, tol = 1e-5): number {
  const B = g.x.length;
  const T = g.x[0].length;
  const I = model.arch.inputSize;
  assert.equal(g.x[0][0].length, I, 'input size');
  const x = new Float64Array(T * B * I);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let i = 0; i < I; i++) x[(t * B + b) * I + i] = g.x[b][t][i];
  const raw = forward(model, x, T, B).out;
  const out = g.compare === 'predict' && model.arch.readout.activation === 'softmax' ? softmaxRows(raw, model.arch.readout.units) : raw;
  const k = model.arch.readout.units;
  let worst = 0;
  const at = (b: number, t: number, j: number) => (model.arch.readout.perStep ? out[(t * B + b) * k + j] : out[b * k + j]);
  for (let b = 0; b < B; b++) {
    const yb = g.y[b];
    if (model.arch.readout.perStep) {
      assert.equal((yb as number[][]).length, T, 'golden has one output per step');
      for (let t = 0; t < T; t++) {
        assert.equal((yb as number[][])[t].length, k, 'readout units');
        for (let j = 0; j < k; j++) worst = Math.max(worst, Math.abs(at(b, t, j) - (yb as number[][])[t][j]));
      }
    } else {
      assert.equal((yb as number[]).length, k, 'readout units');
      for (let j = 0; j < k; j++) worst = Math.max(worst, Math.abs(at(b, 0, j) - (yb as number[])[j]));
    }
  }
  assert.ok(worst <= tol, `max |ours - reference| = ${worst} > ${tol} (${g.note})`);
  return worst;
}
