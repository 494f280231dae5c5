/**
 * Shared forward/backward for BRC and nBRC. The two cells differ only in the gates' recurrent term:
 * BRC uses vectors (w ⊙ h, "diag"), nBRC full matrices (h W, "full"). The candidate's feedback is
 * cellular in both (a ⊙ h).
 *
 *   a_t = 1 + tanh(x_t U_a + rec_a(h_{t-1}) + b_a)
 *   c_t = σ(x_t U_c + rec_c(h_{t-1}) + b_c)
 *   h_t = c_t ⊙ h_{t-1} + (1 − c_t) ⊙ tanh(x_t U + a_t ⊙ h_{t-1})
 */
import type { CellBackward, CellForward, LayerParams, ParamSpec, SeqShape } from './types';

/** 'diag': recurrent params are [H] vectors; 'full': [H, H] matrices applied as row-vector h times W. */
export type Recurrence = 'diag' | 'full';

/** One of the two cells: its kind, recurrence and the names of the gates' recurrent parameters. */
export interface BrcVariant {
  cell: 'brc' | 'nbrc';
  rec: Recurrence;
  recA: string;
  recC: string;
}

interface BrcCache {
  /** Candidate tanh(x U + a ⊙ h_{t-1}), [T, B, H]. */
  g: Float64Array;
  /** The initial state [B, H] when forward was given one (h_0 = 0 otherwise). */
  h0?: Float64Array;
}

export function brcParamSpecs(v: BrcVariant, inputSize: number, units: number): ParamSpec[] {
  const rec = v.rec;
  const recShape = rec === 'diag' ? [units] : [units, units];
  const recInit = rec === 'diag' ? 'ones' : 'orthogonal';
  return [
    { name: 'U_c', shape: [inputSize, units], init: 'glorot_uniform' },
    { name: 'U_a', shape: [inputSize, units], init: 'glorot_uniform' },
    { name: 'U', shape: [inputSize, units], init: 'glorot_uniform' },
    { name: v.recC, shape: recShape, init: recInit },
    { name: v.recA, shape: recShape, init: recInit },
    { name: 'b_c', shape: [units], init: 'zeros' },
    { name: 'b_a', shape: [units], init: 'zeros' },
  ];
}

export function checkShape(shape: SeqShape): void {
  for (const k of ['T', 'B', 'inputSize', 'units'] as const) {
    const v = shape[k];
    if (!Number.isInteger(v) || v < 1) throw new Error(`invalid sequence shape: ${k} = ${v} (expected a positive integer)`);
  }
}

function checkArray(what: string, a: unknown, expected: number): asserts a is Float64Array {
  if (!(a instanceof Float64Array)) throw new Error(`${what}: expected a Float64Array`);
  if (a.length !== expected) throw new Error(`${what}: length ${a.length}, expected ${expected}`);
}

export function checkInputs(v: BrcVariant, p: LayerParams, x: Float64Array, shape: SeqShape): void {
  checkShape(shape);
  const cell = v.cell;
  const specs = brcParamSpecs(v, shape.inputSize, shape.units);
  const { T, B, inputSize } = shape;
  checkArray(`${cell}: x [T=${T}, B=${B}, in=${inputSize}]`, x, T * B * inputSize);
  if (p === null || typeof p !== 'object') throw new Error(`${cell}: parameters missing`);
  for (const s of specs) {
    if (!(s.name in p)) throw new Error(`${cell}: missing parameter ${s.name} [${s.shape.join(', ')}]`);
    checkArray(
      `${cell}: parameter ${s.name} [${s.shape.join(', ')}]`,
      p[s.name],
      s.shape.reduce((m, n) => m * n, 1),
    );
  }
}

/** [rows, cols] row-major -> [cols, rows]. */
function transpose(m: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = m[i * cols + j];
  return out;
}

/** The candidate's input drive u_t = x_t U for every step, [T, B, H]. Works for both cells. */
export function brcInputDrive(p: LayerParams, x: Float64Array, shape: SeqShape): Float64Array {
  checkShape(shape);
  const { T, B, inputSize: I, units: H } = shape;
  checkArray(`brcInputDrive: x [T=${T}, B=${B}, in=${I}]`, x, T * B * I);
  checkArray(`brcInputDrive: parameter U [${I}, ${H}]`, p.U, I * H);
  const U = p.U;
  const out = new Float64Array(T * B * H);
  for (let n = 0; n < T * B; n++) {
    const o = n * H;
    const xo = n * I;
    for (let i = 0; i < I; i++) {
      const xi = x[xo + i];
      const r = i * H;
      for (let j = 0; j < H; j++) out[o + j] += xi * U[r + j];
    }
  }
  return out;
}

export function brcForward(v: BrcVariant, p: LayerParams, x: Float64Array, shape: SeqShape, initialState?: Float64Array): CellForward {
  checkInputs(v, p, x, shape);
  const rec = v.rec;
  const { T, B, inputSize: I, units: H } = shape;
  const n = T * B * H;
  const h0 = initialState;
  if (h0 !== undefined) checkArray(`${v.cell}: initialState [B=${B}, H=${H}]`, h0, B * H);
  // Transposed copies ([H, in], [H, H]) turn every product into a contiguous dot product with the
  // accumulators in registers; this is the hot loop of training.
  const UaT = transpose(p.U_a, I, H);
  const UcT = transpose(p.U_c, I, H);
  const UT = transpose(p.U, I, H);
  const full = rec === 'full';
  const Ra = full ? transpose(p[v.recA], H, H) : p[v.recA];
  const Rc = full ? transpose(p[v.recC], H, H) : p[v.recC];
  const ba = p.b_a;
  const bc = p.b_c;
  const A = new Float64Array(n);
  const C = new Float64Array(n);
  const G = new Float64Array(n);
  const h = new Float64Array(n);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const o = (t * B + b) * H;
      const xo = (t * B + b) * I;
      // h_{t-1}: the previous row of h, or the initial state (absent = zero) at t = 0.
      const prev = t > 0 ? h : h0;
      const po = t > 0 ? ((t - 1) * B + b) * H : b * H;
      for (let j = 0; j < H; j++) {
        let za = ba[j];
        let zc = bc[j];
        let u = 0;
        const r = j * I;
        for (let i = 0; i < I; i++) {
          const xi = x[xo + i];
          za += xi * UaT[r + i];
          zc += xi * UcT[r + i];
          u += xi * UT[r + i];
        }
        let hp = 0;
        if (prev !== undefined) {
          hp = prev[po + j];
          if (full) {
            const q = j * H;
            for (let k = 0; k < H; k++) {
              const hk = prev[po + k];
              za += hk * Ra[q + k];
              zc += hk * Rc[q + k];
            }
          } else {
            za += Ra[j] * hp;
            zc += Rc[j] * hp;
          }
        }
        const a = 1 + Math.tanh(za);
        const c = 1 / (1 + Math.exp(-zc));
        const g = Math.tanh(u + a * hp);
        A[o + j] = a;
        C[o + j] = c;
        G[o + j] = g;
        h[o + j] = c * hp + (1 - c) * g;
      }
    }
  }
  const cache: BrcCache = { g: G, h0 };
  return { h, gates: { a: A, c: C }, cache };
}

export function brcBackward(
  v: BrcVariant,
  p: LayerParams,
  x: Float64Array,
  fwd: CellForward,
  dhOut: Float64Array,
  shape: SeqShape,
): CellBackward {
  checkInputs(v, p, x, shape);
  const cell = v.cell;
  const rec = v.rec;
  const { T, B, inputSize: I, units: H } = shape;
  const n = T * B * H;
  checkArray(`${cell}: dhOut [T, B, H]`, dhOut, n);
  checkArray(`${cell}: forward h`, fwd?.h, n);
  checkArray(`${cell}: forward gate a`, fwd.gates?.a, n);
  checkArray(`${cell}: forward gate c`, fwd.gates.c, n);
  checkArray(`${cell}: forward cache g`, (fwd.cache as BrcCache | undefined)?.g, n);
  const h = fwd.h;
  const A = fwd.gates.a;
  const C = fwd.gates.c;
  const G = (fwd.cache as BrcCache).g;
  const h0 = (fwd.cache as BrcCache).h0;
  if (h0 !== undefined) checkArray(`${cell}: forward cache h0`, h0, B * H);
  const Ua = p.U_a;
  const Uc = p.U_c;
  const U = p.U;
  const Ra = p[v.recA];
  const Rc = p[v.recC];

  const grads: LayerParams = {};
  for (const s of brcParamSpecs(v, I, H)) grads[s.name] = new Float64Array(p[s.name].length);
  const dUa = grads.U_a;
  const dUc = grads.U_c;
  const dU = grads.U;
  const dRa = grads[v.recA];
  const dRc = grads[v.recC];
  const dba = grads.b_a;
  const dbc = grads.b_c;

  const dx = new Float64Array(T * B * I);
  const dh = new Float64Array(n);
  // carry[b, j] = dL/dh_t through step t+1 (recurrent path only); zero beyond the last step.
  const carry = new Float64Array(B * H);
  const dza = new Float64Array(H);
  const dzc = new Float64Array(H);
  const du = new Float64Array(H);

  for (let t = T - 1; t >= 0; t--) {
    for (let b = 0; b < B; b++) {
      const o = (t * B + b) * H;
      const xo = (t * B + b) * I;
      const prev = t > 0 ? h : h0;
      const po = t > 0 ? ((t - 1) * B + b) * H : b * H;
      const co = b * H;
      // All of carry[b, ·] is read here before any of it is overwritten with dL/dh_{t-1}.
      for (let j = 0; j < H; j++) {
        const dH = dhOut[o + j] + carry[co + j];
        dh[o + j] = dH;
        const hp = prev !== undefined ? prev[po + j] : 0;
        const a = A[o + j];
        const c = C[o + j];
        const g = G[o + j];
        const ds = dH * (1 - c) * (1 - g * g); // through the candidate's pre-activation
        const ta = a - 1; // tanh of a's pre-activation
        dza[j] = ds * hp * (1 - ta * ta);
        dzc[j] = dH * (hp - g) * c * (1 - c);
        du[j] = ds;
        carry[co + j] = dH * c + ds * a; // direct paths to h_{t-1}
        dba[j] += dza[j];
        dbc[j] += dzc[j];
      }
      if (prev !== undefined) {
        if (rec === 'diag') {
          for (let j = 0; j < H; j++) {
            const hp = prev[po + j];
            dRa[j] += dza[j] * hp;
            dRc[j] += dzc[j] * hp;
            carry[co + j] += dza[j] * Ra[j] + dzc[j] * Rc[j];
          }
        } else {
          for (let k = 0; k < H; k++) {
            const hk = prev[po + k];
            const r = k * H;
            let s = 0;
            for (let j = 0; j < H; j++) {
              dRa[r + j] += hk * dza[j];
              dRc[r + j] += hk * dzc[j];
              s += Ra[r + j] * dza[j] + Rc[r + j] * dzc[j];
            }
            carry[co + k] += s;
          }
        }
      }
      for (let i = 0; i < I; i++) {
        const xi = x[xo + i];
        const r = i * H;
        let s = 0;
        for (let j = 0; j < H; j++) {
          dUa[r + j] += xi * dza[j];
          dUc[r + j] += xi * dzc[j];
          dU[r + j] += xi * du[j];
          s += Ua[r + j] * dza[j] + Uc[r + j] * dzc[j] + U[r + j] * du[j];
        }
        dx[xo + i] = s;
      }
    }
  }
  return { dx, grads, dh };
}
