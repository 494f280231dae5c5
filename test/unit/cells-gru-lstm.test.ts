import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gruCell } from '../../core/cells/gru';
import { lstmCell } from '../../core/cells/lstm';
import type { CellDef, LayerParams, SeqShape } from '../../core/cells/types';
import { colSumAcc, matmulAcc, matmulTransAAcc, matmulTransBAcc } from '../../core/cells/dense';
import { initLayerParams } from '../../core/util/init';
import { Rng } from '../../core/util/rng';
import { checkGradient } from '../helpers/gradcheck';

const sig = (v: number): number => 1 / (1 + Math.exp(-v));
const tanh = Math.tanh;
type Mat = number[][];

function close(actual: number, expected: number, what: string, tol = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs expected ${expected}`);
}

const flat = (m: Mat): Float64Array => Float64Array.from(m.flat());

function randMat(rng: Rng, r: number, c: number, scale: number): Mat {
  return Array.from({ length: r }, () => Array.from({ length: c }, () => scale * rng.normal()));
}

// Independent per-sequence references with nested arrays (B = 1). `bump` adds d to h_t[j] right after step t,
// so finite differences through them give the total dL/dh_t.
interface Bump {
  t: number;
  j: number;
  d: number;
}
interface GruP {
  K: Mat;
  RK: Mat;
  b: Mat;
}
interface LstmP {
  K: Mat;
  RK: Mat;
  b: number[];
}

function refGru(P: GruP, xs: Mat, H: number, bump?: Bump): { h: Mat; z: Mat; r: Mat } {
  let h = new Array<number>(H).fill(0);
  const out = { h: [] as Mat, z: [] as Mat, r: [] as Mat };
  xs.forEach((x, t) => {
    const z: number[] = [];
    const r: number[] = [];
    const hn: number[] = [];
    for (let j = 0; j < H; j++) {
      let xz = P.b[0][j],
        xr = P.b[0][H + j],
        xh = P.b[0][2 * H + j];
      let rz = P.b[1][j],
        rr = P.b[1][H + j],
        rh = P.b[1][2 * H + j];
      x.forEach((xi, i) => {
        xz += xi * P.K[i][j];
        xr += xi * P.K[i][H + j];
        xh += xi * P.K[i][2 * H + j];
      });
      h.forEach((hk, k) => {
        rz += hk * P.RK[k][j];
        rr += hk * P.RK[k][H + j];
        rh += hk * P.RK[k][2 * H + j];
      });
      z[j] = sig(xz + rz);
      r[j] = sig(xr + rr);
      const hh = tanh(xh + r[j] * rh);
      hn[j] = z[j] * h[j] + (1 - z[j]) * hh;
    }
    if (bump && bump.t === t) hn[bump.j] += bump.d;
    h = hn;
    out.h.push(hn);
    out.z.push(z);
    out.r.push(r);
  });
  return out;
}

function refLstm(P: LstmP, xs: Mat, H: number, bump?: Bump): { h: Mat; i: Mat; f: Mat; o: Mat; cell: Mat } {
  let h = new Array<number>(H).fill(0);
  let c = new Array<number>(H).fill(0);
  const out = { h: [] as Mat, i: [] as Mat, f: [] as Mat, o: [] as Mat, cell: [] as Mat };
  for (let t = 0; t < xs.length; t++) {
    const pre = P.b.slice();
    for (let q = 0; q < 4 * H; q++) {
      xs[t].forEach((xi, i) => {
        pre[q] += xi * P.K[i][q];
      });
      h.forEach((hk, k) => {
        pre[q] += hk * P.RK[k][q];
      });
    }
    const ig = pre.slice(0, H).map(sig);
    const fg = pre.slice(H, 2 * H).map(sig);
    const gg = pre.slice(2 * H, 3 * H).map(tanh);
    const og = pre.slice(3 * H).map(sig);
    c = c.map((cj, j) => fg[j] * cj + ig[j] * gg[j]);
    h = c.map((cj, j) => og[j] * tanh(cj));
    if (bump && bump.t === t) h[bump.j] += bump.d;
    out.h.push(h);
    out.i.push(ig);
    out.f.push(fg);
    out.o.push(og);
    out.cell.push(c);
  }
  return out;
}

/** Value at [t, b, j] of a time-major [T, B, H] buffer. */
const at = (a: Float64Array, s: SeqShape, t: number, b: number, j: number): number => a[(t * s.B + b) * s.units + j];

test('GRU T=2, in=1, H=1 matches scalar formulas written out by hand', () => {
  const [kz, kr, kh] = [0.7, -0.4, 1.1];
  const [uz, ur, uh] = [-0.6, 0.9, 0.8];
  const [b0z, b0r, b0h] = [0.1, -0.2, 0.05];
  const [b1z, b1r, b1h] = [0.3, 0.15, -0.25];
  const [x1, x2] = [0.8, -1.3];
  const p: LayerParams = {
    kernel: Float64Array.from([kz, kr, kh]),
    recurrent_kernel: Float64Array.from([uz, ur, uh]),
    bias: Float64Array.from([b0z, b0r, b0h, b1z, b1r, b1h]),
  };
  const z1 = sig(x1 * kz + b0z + b1z);
  const r1 = sig(x1 * kr + b0r + b1r);
  const hh1 = tanh(x1 * kh + b0h + r1 * b1h);
  const h1 = (1 - z1) * hh1;
  const z2 = sig(x2 * kz + b0z + h1 * uz + b1z);
  const r2 = sig(x2 * kr + b0r + h1 * ur + b1r);
  const hh2 = tanh(x2 * kh + b0h + r2 * (h1 * uh + b1h));
  const h2 = z2 * h1 + (1 - z2) * hh2;

  const one = gruCell.forward(p, Float64Array.from([x1]), { T: 1, B: 1, inputSize: 1, units: 1 });
  close(one.h[0], h1, 'T=1 h');
  close(one.gates.z[0], z1, 'T=1 z');
  close(one.gates.r[0], r1, 'T=1 r');
  const two = gruCell.forward(p, Float64Array.from([x1, x2]), { T: 2, B: 1, inputSize: 1, units: 1 });
  assert.deepEqual(Object.keys(two.gates).sort(), ['r', 'z']);
  close(two.h[0], h1, 'h1');
  close(two.h[1], h2, 'h2');
  close(two.gates.z[1], z2, 'z2');
  close(two.gates.r[1], r2, 'r2');
});

test('LSTM T=2, in=1, H=1 matches scalar formulas written out by hand', () => {
  const [ki, kf, kc, ko] = [0.5, -0.3, 0.9, 0.2];
  const [ui, uf, uc, uo] = [-0.7, 0.4, 0.6, -0.5];
  const [bi, bf, bc, bo] = [0.1, 1, -0.2, 0.3];
  const [x1, x2] = [1.2, -0.7];
  const p: LayerParams = {
    kernel: Float64Array.from([ki, kf, kc, ko]),
    recurrent_kernel: Float64Array.from([ui, uf, uc, uo]),
    bias: Float64Array.from([bi, bf, bc, bo]),
  };
  const i1 = sig(x1 * ki + bi),
    f1 = sig(x1 * kf + bf),
    g1 = tanh(x1 * kc + bc),
    o1 = sig(x1 * ko + bo);
  const c1 = i1 * g1; // c_0 = 0
  const h1 = o1 * tanh(c1);
  const i2 = sig(x2 * ki + h1 * ui + bi),
    f2 = sig(x2 * kf + h1 * uf + bf);
  const g2 = tanh(x2 * kc + h1 * uc + bc),
    o2 = sig(x2 * ko + h1 * uo + bo);
  const c2 = f2 * c1 + i2 * g2;
  const h2 = o2 * tanh(c2);

  const one = lstmCell.forward(p, Float64Array.from([x1]), { T: 1, B: 1, inputSize: 1, units: 1 });
  close(one.h[0], h1, 'T=1 h');
  close(one.gates.i[0], i1, 'T=1 i');
  close(one.gates.f[0], f1, 'T=1 f');
  close(one.gates.o[0], o1, 'T=1 o');
  close(one.gates.cell[0], c1, 'T=1 cell');
  const two = lstmCell.forward(p, Float64Array.from([x1, x2]), { T: 2, B: 1, inputSize: 1, units: 1 });
  assert.deepEqual(Object.keys(two.gates).sort(), ['cell', 'f', 'i', 'o']);
  const want = [
    [h1, i1, f1, o1, c1],
    [h2, i2, f2, o2, c2],
  ];
  for (let t = 0; t < 2; t++) {
    const got = [two.h[t], two.gates.i[t], two.gates.f[t], two.gates.o[t], two.gates.cell[t]];
    ['h', 'i', 'f', 'o', 'cell'].forEach((nm, q) => close(got[q], want[t][q], `${nm}${t + 1}`));
  }
});

test('GRU and LSTM with in=2, H=2, B=3 match the nested-array references per batch element (time-major layout)', () => {
  const rng = new Rng(11);
  const T = 3,
    B = 3,
    I = 2,
    H = 2;
  const s: SeqShape = { T, B, inputSize: I, units: H };
  const xs: Mat[] = Array.from({ length: B }, () => randMat(rng, T, I, 1)); // xs[b][t][i]
  const x = new Float64Array(T * B * I);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let i = 0; i < I; i++) x[(t * B + b) * I + i] = xs[b][t][i];

  const gp: GruP = { K: randMat(rng, I, 3 * H, 0.8), RK: randMat(rng, H, 3 * H, 0.8), b: randMat(rng, 2, 3 * H, 0.5) };
  const gf = gruCell.forward({ kernel: flat(gp.K), recurrent_kernel: flat(gp.RK), bias: flat(gp.b) }, x, s);
  const lp: LstmP = { K: randMat(rng, I, 4 * H, 0.8), RK: randMat(rng, H, 4 * H, 0.8), b: randMat(rng, 1, 4 * H, 0.5)[0] };
  const lf = lstmCell.forward({ kernel: flat(lp.K), recurrent_kernel: flat(lp.RK), bias: Float64Array.from(lp.b) }, x, s);
  for (let b = 0; b < B; b++) {
    const gr = refGru(gp, xs[b], H);
    const lr = refLstm(lp, xs[b], H);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < H; j++) {
        close(at(gf.h, s, t, b, j), gr.h[t][j], `gru h[${t},${b},${j}]`);
        close(at(gf.gates.z, s, t, b, j), gr.z[t][j], `gru z[${t},${b},${j}]`);
        close(at(gf.gates.r, s, t, b, j), gr.r[t][j], `gru r[${t},${b},${j}]`);
        close(at(lf.h, s, t, b, j), lr.h[t][j], `lstm h[${t},${b},${j}]`);
        for (const g of ['i', 'f', 'o', 'cell'] as const) close(at(lf.gates[g], s, t, b, j), lr[g][t][j], `lstm ${g}[${t},${b},${j}]`);
      }
    }
  }
});

function orthonormalRows(m: Float64Array, rows: number, cols: number): number {
  let worst = 0;
  for (let a = 0; a < rows; a++) {
    for (let b = 0; b < rows; b++) {
      let d = 0;
      for (let j = 0; j < cols; j++) d += m[a * cols + j] * m[b * cols + j];
      worst = Math.max(worst, Math.abs(d - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

test('paramSpecs shapes and Keras initialisers', () => {
  const I = 3,
    H = 4;
  assert.deepEqual(gruCell.paramSpecs(I, H), [
    { name: 'kernel', shape: [I, 3 * H], init: 'glorot_uniform' },
    { name: 'recurrent_kernel', shape: [H, 3 * H], init: 'orthogonal' },
    { name: 'bias', shape: [2, 3 * H], init: 'zeros' },
  ]);
  assert.deepEqual(lstmCell.paramSpecs(I, H), [
    { name: 'kernel', shape: [I, 4 * H], init: 'glorot_uniform' },
    { name: 'recurrent_kernel', shape: [H, 4 * H], init: 'orthogonal' },
    { name: 'bias', shape: [4 * H], init: 'lstm_bias' },
  ]);
  assert.deepEqual(gruCell.gateNames, ['z', 'r']);
  assert.deepEqual(lstmCell.gateNames, ['i', 'f', 'o', 'cell']);

  for (const [cell, G] of [
    [gruCell, 3 * H],
    [lstmCell, 4 * H],
  ] as [CellDef, number][]) {
    const rng = new Rng(5);
    const p = initLayerParams(cell.paramSpecs(I, H), rng);
    const limit = Math.sqrt(6 / (I + G));
    assert.ok(
      p.kernel.every((v) => Math.abs(v) <= limit),
      `${cell.kind} kernel within glorot limit`,
    );
    assert.ok(
      p.kernel.some((v) => Math.abs(v) > limit / 2),
      `${cell.kind} kernel not degenerate`,
    );
    assert.ok(orthonormalRows(p.recurrent_kernel, H, G) < 1e-12, `${cell.kind} RK RKᵀ ≈ I`);
    if (cell.kind === 'gru') {
      assert.ok(
        p.bias.every((v) => v === 0),
        'GRU bias zeros',
      );
    } else {
      for (let q = 0; q < G; q++) assert.equal(p.bias[q], q >= H && q < 2 * H ? 1 : 0, `LSTM bias[${q}] (forget block = 1)`);
    }
  }
});

interface GradCase {
  T: number;
  B: number;
  I: number;
  H: number;
  seed: number;
}

function randomParams(cell: CellDef, rng: Rng, I: number, H: number): LayerParams {
  const p: LayerParams = {};
  for (const spec of cell.paramSpecs(I, H)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    p[spec.name] = Float64Array.from({ length: n }, () => 0.5 * rng.normal());
  }
  return p;
}

function gradCheck(cell: CellDef, c: GradCase): void {
  const rng = new Rng(c.seed);
  const s: SeqShape = { T: c.T, B: c.B, inputSize: c.I, units: c.H };
  const p = randomParams(cell, rng, c.I, c.H);
  const x = Float64Array.from({ length: c.T * c.B * c.I }, () => rng.normal());
  const w = Float64Array.from({ length: c.T * c.B * c.H }, () => rng.normal());
  const loss = (): number => {
    const h = cell.forward(p, x, s).h;
    let L = 0;
    for (let k = 0; k < h.length; k++) L += w[k] * h[k];
    return L;
  };
  const fwd = cell.forward(p, x, s);
  const wCopy = w.slice();
  const bwd = cell.backward(p, x, fwd, w, s);
  assert.deepEqual(w, wCopy, 'dhOut must not be modified');
  assert.deepEqual(Object.keys(bwd.grads).sort(), Object.keys(p).sort());
  for (const name of Object.keys(p)) checkGradient(`${cell.kind} ${name}`, p[name], bwd.grads[name], loss);
  checkGradient(`${cell.kind} x`, x, bwd.dx, loss);
  // The last step has no recurrent path, so its total gradient is exactly dhOut there.
  const last = (c.T - 1) * c.B * c.H;
  for (let k = last; k < w.length; k++) assert.equal(bwd.dh[k], w[k], `dh at last step [${k}]`);
}

const CASES: GradCase[] = [
  { T: 5, B: 3, I: 2, H: 4, seed: 1 },
  { T: 4, B: 1, I: 5, H: 3, seed: 2 },
  { T: 2, B: 2, I: 1, H: 5, seed: 3 },
  { T: 1, B: 2, I: 3, H: 2, seed: 4 },
];

for (const cell of [gruCell, lstmCell]) {
  for (const c of CASES) {
    test(`${cell.kind} BPTT gradients match central differences (T=${c.T}, B=${c.B}, in=${c.I}, H=${c.H})`, () => gradCheck(cell, c));
  }
}

test('dh is the total dL/dh_t: finite differences through the references with h_t bumped', () => {
  const rng = new Rng(9);
  const T = 4,
    I = 2,
    H = 3;
  const s: SeqShape = { T, B: 1, inputSize: I, units: H };
  const xs = randMat(rng, T, I, 1);
  const x = flat(xs);
  const w = randMat(rng, T, H, 1);
  const wf = flat(w);
  const lossOf = (h: Mat): number => h.reduce((acc, row, t) => acc + row.reduce((a, v, j) => a + v * w[t][j], 0), 0);
  const eps = 1e-6;

  const gp: GruP = { K: randMat(rng, I, 3 * H, 0.5), RK: randMat(rng, H, 3 * H, 0.5), b: randMat(rng, 2, 3 * H, 0.5) };
  const gpar = { kernel: flat(gp.K), recurrent_kernel: flat(gp.RK), bias: flat(gp.b) };
  const gdh = gruCell.backward(gpar, x, gruCell.forward(gpar, x, s), wf, s).dh;
  const lp: LstmP = { K: randMat(rng, I, 4 * H, 0.5), RK: randMat(rng, H, 4 * H, 0.5), b: randMat(rng, 1, 4 * H, 0.5)[0] };
  const lpar = { kernel: flat(lp.K), recurrent_kernel: flat(lp.RK), bias: Float64Array.from(lp.b) };
  const ldh = lstmCell.backward(lpar, x, lstmCell.forward(lpar, x, s), wf, s).dh;

  for (let t = 0; t < T; t++) {
    for (let j = 0; j < H; j++) {
      const gNum = (lossOf(refGru(gp, xs, H, { t, j, d: eps }).h) - lossOf(refGru(gp, xs, H, { t, j, d: -eps }).h)) / (2 * eps);
      close(gdh[t * H + j], gNum, `gru dh[${t},${j}]`, 1e-7);
      const lNum = (lossOf(refLstm(lp, xs, H, { t, j, d: eps }).h) - lossOf(refLstm(lp, xs, H, { t, j, d: -eps }).h)) / (2 * eps);
      close(ldh[t * H + j], lNum, `lstm dh[${t},${j}]`, 1e-7);
    }
  }
});

test('bad shapes and inputs throw clear errors', () => {
  for (const cell of [gruCell, lstmCell]) {
    const s: SeqShape = { T: 2, B: 1, inputSize: 2, units: 3 };
    const p = randomParams(cell, new Rng(1), 2, 3);
    const x = new Float64Array(4);
    assert.throws(() => cell.forward(p, new Float64Array(5), s), /x has 5 entries/);
    assert.throws(() => cell.forward(p, x, { ...s, T: 0 }), /shape\.T must be a positive integer/);
    assert.throws(() => cell.forward(p, x, { ...s, units: 1.5 }), /shape\.units/);
    assert.throws(() => cell.forward({ ...p, kernel: new Float64Array(3) }, x, s), /parameter "kernel" has 3 entries/);
    const { bias: _omit, ...noBias } = p;
    void _omit;
    assert.throws(() => cell.forward(noBias, x, s), /missing Float64Array parameter "bias"/);
    const fwd = cell.forward(p, x, s);
    assert.throws(() => cell.backward(p, x, fwd, new Float64Array(5), s), /dhOut has 5 entries, expected 6/);
    assert.throws(() => cell.backward(p, x, { ...fwd, cache: undefined }, new Float64Array(6), s), /forward cache missing/);
    const other = cell.forward(p, new Float64Array(6), { ...s, T: 3 });
    assert.throws(() => cell.backward(p, x, other, new Float64Array(6), s), /forward h has 9 entries/);
  }
});

test('dense kernels match naive loops, with offsets and every unroll remainder', () => {
  const rng = new Rng(21);
  const rand = (n: number): Float64Array => Float64Array.from({ length: n }, () => rng.normal());
  for (const [m, k, n] of [
    [1, 1, 1],
    [3, 5, 2],
    [4, 8, 3],
    [7, 6, 9],
    [2, 3, 4],
  ]) {
    const oo = 2,
      ao = 3,
      bo = 1; // offsets into larger buffers
    const A = rand(ao + m * k),
      Bm = rand(bo + k * n),
      C = rand(oo + m * n);
    // matmulAcc: C[m×n] += A[m×k] B[k×n]
    const out1 = C.slice();
    matmulAcc(out1, A, Bm, m, k, n, oo, ao, bo);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = C[oo + i * n + j];
        for (let p = 0; p < k; p++) s += A[ao + i * k + p] * Bm[bo + p * n + j];
        close(out1[oo + i * n + j], s, `matmulAcc ${m}x${k}x${n} [${i},${j}]`);
      }
    // matmulTransAAcc: D[k×n] += A[m×k]ᵀ C[m×n]
    const D = rand(oo + k * n);
    const out2 = D.slice();
    matmulTransAAcc(out2, A, C, m, k, n, oo, ao, oo);
    for (let p = 0; p < k; p++)
      for (let j = 0; j < n; j++) {
        let s = D[oo + p * n + j];
        for (let i = 0; i < m; i++) s += A[ao + i * k + p] * C[oo + i * n + j];
        close(out2[oo + p * n + j], s, `matmulTransAAcc ${m}x${k}x${n} [${p},${j}]`);
      }
    // matmulTransBAcc: E[m×k] += C[m×n] B'[k×n]ᵀ, with B' = Bm viewed as [k×n]
    const E = rand(ao + m * k);
    const out3 = E.slice();
    matmulTransBAcc(out3, C, Bm, m, n, k, ao, oo, bo);
    for (let i = 0; i < m; i++)
      for (let p = 0; p < k; p++) {
        let s = E[ao + i * k + p];
        for (let j = 0; j < n; j++) s += C[oo + i * n + j] * Bm[bo + p * n + j];
        close(out3[ao + i * k + p], s, `matmulTransBAcc ${m}x${k}x${n} [${i},${p}]`);
      }
    const F = rand(1 + n);
    const out4 = F.slice();
    colSumAcc(out4, C, m, n, 1, oo);
    for (let j = 0; j < n; j++) {
      let s = F[1 + j];
      for (let i = 0; i < m; i++) s += C[oo + i * n + j];
      close(out4[1 + j], s, `colSumAcc [${j}]`);
    }
  }
});
