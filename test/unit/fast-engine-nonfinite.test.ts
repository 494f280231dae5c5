/**
 * NaN and ±Inf through the fast engine: for every cell and every instruction set the CPU supports, a
 * non-finite value placed in the input, in each parameter tensor or in dL/dh must come out of the float32
 * kernels exactly where the float64 reference cells put it (same NaN / +Inf / −Inf pattern in h, every
 * gate, dx, dh and every parameter gradient), and the finite values must still agree.
 * (The fast engine has no initial-state input: it always starts from h_0 = 0.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceCell } from '../../core/cells/index';
import { CELL_KINDS, type CellDef, type CellKind, type LayerParams, type SeqShape } from '../../core/cells/types';
import { fastEngineStatus, nativeKernels } from '../../core/engine/fast';
import { fastCell } from '../../core/engine/index';
import { Rng } from '../../core/util/rng';
import { noisyParams } from '../helpers/params';
import { float32Close, nonFiniteClass as cls } from '../helpers/float32-close';

const status = fastEngineStatus();
const skip = status.available ? false : `fast engine unavailable: ${status.reason}`;

const VALUES = [NaN, Infinity, -Infinity] as const;

/** Same non-finite pattern, and the entries finite in both agree within 1e-4 (as in fast-engine.test.ts). */
const samePattern = (what: string, got: Float64Array, want: Float64Array) => float32Close(what, got, want, 1e-4, 'match');

function randn(n: number, rng: Rng): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal());
}

interface Case {
  where: string;
  p: LayerParams;
  x: Float64Array;
  dhOut: Float64Array;
}

/** One clean problem and, for a value v, copies poisoned in x, in each parameter tensor, or in dL/dh. */
function cases(def: CellDef, shape: SeqShape, v: number, seed: number): Case[] {
  const rng = new Rng(seed);
  const { T, B, inputSize: I, units: H } = shape;
  // Milder weights for long sequences, as in fast-engine.test.ts: float32 rounding is amplified there.
  const p = noisyParams(def, I, H, rng, T > 10 ? 0.2 : 0.4);
  const x = randn(T * B * I, rng);
  const dhOut = randn(T * B * H, rng);
  // Inside the sequence (step 1, last sequence, last feature), so earlier steps stay finite.
  const mid = (n: number, width: number) => Math.min(n - 1, B * width + (B - 1) * width + width - 1);
  const out: Case[] = [];
  const xp = x.slice();
  xp[mid(xp.length, I)] = v;
  out.push({ where: 'x', p, x: xp, dhOut });
  for (const name of Object.keys(p)) {
    const q = { ...p, [name]: p[name].slice() };
    q[name][Math.floor(q[name].length / 2)] = v;
    out.push({ where: `param ${name}`, p: q, x, dhOut });
  }
  const dp = dhOut.slice();
  dp[mid(dp.length, H)] = v;
  out.push({ where: 'dhOut', p, x, dhOut: dp });
  return out;
}

function compare(kind: CellKind, shape: SeqShape, label: string): void {
  const ref = referenceCell(kind);
  const fast = fastCell(kind) as CellDef;
  for (const v of VALUES) {
    for (const c of cases(ref, shape, v, 11)) {
      const tag = `${label} ${kind} ${c.where}=${v}`;
      const fr = ref.forward(c.p, c.x, shape);
      const ff = fast.forward(c.p, c.x, shape);
      samePattern(`${tag} h`, ff.h, fr.h);
      for (const g of ref.gateNames) samePattern(`${tag} gate ${g}`, ff.gates[g], fr.gates[g]);
      const br = ref.backward(c.p, c.x, fr, c.dhOut, shape);
      const bf = fast.backward(c.p, c.x, ff, c.dhOut, shape);
      samePattern(`${tag} dx`, bf.dx, br.dx);
      samePattern(`${tag} dh`, bf.dh, br.dh);
      for (const name of Object.keys(br.grads)) samePattern(`${tag} d${name}`, bf.grads[name], br.grads[name]);
    }
  }
}

// A 1-wide input (dx by dot products) and a wider one (dx by the GEMM); H = 9 and 17 leave vector tails;
// the last shape takes several backward chunks per thread.
const SHAPES: SeqShape[] = [
  { T: 4, B: 3, inputSize: 1, units: 9 },
  { T: 3, B: 2, inputSize: 6, units: 17 },
  { T: 30, B: 64, inputSize: 3, units: 8 },
];

for (const kind of CELL_KINDS) {
  test(`fast ${kind}: NaN and ±Inf in x, every parameter and dL/dh propagate as in the reference, on every ISA`, { skip }, () => {
    const k = nativeKernels();
    assert.ok(k);
    const { supportedIsas, isa: original } = k.info();
    try {
      for (const isa of supportedIsas) {
        assert.equal(k.setIsa(isa), true);
        for (const shape of SHAPES) compare(kind, shape, isa);
      }
    } finally {
      k.setIsa(original);
    }
  });
}

test('native tanh and sigmoid keep NaN and saturate ±Inf on every ISA', { skip }, () => {
  const k = nativeKernels();
  assert.ok(k);
  const { supportedIsas, isa: original } = k.info();
  // Every lane position of a 16-wide vector plus a tail, NaN of both signs among ordinary values.
  const x = Float32Array.from({ length: 37 }, (_, i) => (i % 5 === 0 ? NaN : i % 5 === 1 ? Infinity : i % 5 === 2 ? -Infinity : i - 18));
  new Uint32Array(x.buffer)[3] = 0xffc00000; // a negative quiet NaN
  try {
    for (const isa of supportedIsas) {
      k.setIsa(isa);
      const t = new Float32Array(x.length);
      const s = new Float32Array(x.length);
      k.tanh(x, t);
      k.sigmoid(x, s);
      for (let i = 0; i < x.length; i++) {
        assert.equal(cls(t[i]), cls(Math.tanh(x[i])), `${isa} tanh(${x[i]}) = ${t[i]}`);
        assert.equal(cls(s[i]), cls(1 / (1 + Math.exp(-x[i]))), `${isa} sigmoid(${x[i]}) = ${s[i]}`);
        if (!Number.isNaN(x[i])) assert.ok(Math.abs(t[i] - Math.tanh(x[i])) <= 1e-6, `${isa} tanh(${x[i]}) = ${t[i]}`);
      }
    }
  } finally {
    k.setIsa(original);
  }
});
