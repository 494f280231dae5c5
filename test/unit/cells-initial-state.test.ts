import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceCell } from '../../core/cells/index';
import { CELL_KINDS, cellStateSize, supportsInitialState, type CellDef, type LayerParams, type SeqShape } from '../../core/cells/types';
import { initParam } from '../../core/util/init';
import { Rng } from '../../core/util/rng';
import { checkGradient } from '../helpers/gradcheck';

function randParams(def: CellDef, I: number, H: number, rng: Rng): LayerParams {
  const p: LayerParams = {};
  // Random (not init) values so every parameter, including zero-initialised biases, matters.
  for (const s of def.paramSpecs(I, H)) p[s.name] = initParam(rng, s.init, s.shape).map(() => 0.6 * rng.normal());
  return p;
}

const randArray = (rng: Rng, n: number, scale = 1) => Float64Array.from({ length: n }, () => scale * rng.normal());

/** The state [B, stateSize] after step t (0-based) of a forward result: h_t, then c_t for LSTM. */
function stateAfter(
  def: CellDef,
  fwd: { h: Float64Array; gates: Record<string, Float64Array> },
  t: number,
  B: number,
  H: number,
): Float64Array {
  const S = cellStateSize(def, H);
  const out = new Float64Array(B * S);
  for (let b = 0; b < B; b++) {
    const o = (t * B + b) * H;
    out.set(fwd.h.subarray(o, o + H), b * S);
    if (S === 2 * H) out.set(fwd.gates.cell.subarray(o, o + H), b * S + H);
  }
  return out;
}

for (const kind of CELL_KINDS) {
  const def = referenceCell(kind);

  test(`${kind}: declares stateSize and a run split in two with initialState equals one run`, () => {
    assert.ok(supportsInitialState(def));
    assert.equal(cellStateSize(def, 5), kind === 'lstm' ? 10 : 5);
    const rng = new Rng(7);
    const [T, B, I, H, k] = [7, 3, 2, 4, 3];
    const p = randParams(def, I, H, rng);
    const x = randArray(rng, T * B * I);
    const whole = def.forward(p, x, { T, B, inputSize: I, units: H });
    const first = def.forward(p, x.subarray(0, k * B * I), { T: k, B, inputSize: I, units: H });
    const s0 = stateAfter(def, first, k - 1, B, H);
    // The state is not zero, so ignoring initialState would be visible.
    assert.ok(s0.some((v) => Math.abs(v) > 0.05));
    const rest = def.forward(p, x.slice(k * B * I), { T: T - k, B, inputSize: I, units: H }, s0);
    for (let i = 0; i < rest.h.length; i++) {
      assert.ok(Math.abs(rest.h[i] - whole.h[k * B * H + i]) < 1e-14, `h[${i}]`);
    }
    for (const g of def.gateNames) {
      for (let i = 0; i < rest.gates[g].length; i++)
        assert.ok(Math.abs(rest.gates[g][i] - whole.gates[g][k * B * H + i]) < 1e-14, `${g}[${i}]`);
    }
    assert.throws(() => def.forward(p, x, { T, B, inputSize: I, units: H }, new Float64Array(3)), /initialState/);
  });

  test(`${kind}: backward with an initial state matches finite differences (params and x)`, () => {
    const rng = new Rng(11);
    const [T, B, I, H] = [4, 2, 2, 3];
    const shape: SeqShape = { T, B, inputSize: I, units: H };
    const p = randParams(def, I, H, rng);
    const x = randArray(rng, T * B * I);
    const s0 = randArray(rng, B * cellStateSize(def, H), 0.7);
    const w = randArray(rng, T * B * H);
    const loss = () => {
      const f = def.forward(p, x, shape, s0);
      let s = 0;
      for (let i = 0; i < w.length; i++) s += w[i] * f.h[i];
      return s;
    };
    const fwd = def.forward(p, x, shape, s0);
    const res = def.backward(p, x, fwd, w, shape);
    for (const spec of def.paramSpecs(I, H)) checkGradient(`${kind}.${spec.name}`, p[spec.name], res.grads[spec.name], loss);
    checkGradient(`${kind}.dx`, x, res.dx, loss);
    // dh is the total dL/dh_t: bump h_1 through the initial state of a run that starts one step later.
    const bump = (j: number, d: number) => {
      const first = def.forward(p, x.subarray(0, B * I), { ...shape, T: 1 }, s0);
      const st = stateAfter(def, first, 0, B, H);
      st[j] += d; // b = 0, unit j of h
      const f = def.forward(p, x.slice(B * I), { ...shape, T: T - 1 }, st);
      let s = w[j] * (first.h[j] + d);
      for (let b = 1; b < B; b++) for (let u = 0; u < H; u++) s += w[b * H + u] * first.h[b * H + u];
      for (let i = 0; i < f.h.length; i++) s += w[B * H + i] * f.h[i];
      return s;
    };
    for (let j = 0; j < H; j++) {
      const e = 1e-5;
      const num = (bump(j, e) - bump(j, -e)) / (2 * e);
      assert.ok(Math.abs(num - res.dh[j]) < 1e-7 * Math.max(1, Math.abs(num)), `dh[0][0][${j}]: ${res.dh[j]} vs ${num}`);
    }
  });
}
