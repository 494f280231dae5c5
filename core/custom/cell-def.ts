/**
 * A user's cell definition (core/custom/api.ts) as a CellDef: forward unrolls `step` over T with tfjs
 * (float32), backward walks the steps in reverse and takes each step's vector–Jacobian product with tfjs
 * autodiff (recomputing the step from the cached state), accumulating parameter gradients in float64.
 * Every step runs inside tf.tidy, so no tensor outlives a call.
 *
 * The state row is what `step` returns. h defaults to the state (or its first `units` columns); when h is
 * the state's first columns ("h is state") the cell advertises stateSize, so the single-step diagnostics
 * (self-maps, fixed points) can run it from arbitrary states, and a 2·units state exposes its second half as
 * the gate trace "cell" (the LSTM convention of core/diagnostics/state.ts).
 * Backward's `dh` (gradient-flow diagnostic): dL/dh_t through every path, i.e. the external dhOut plus the
 * gradient reaching the state's first `units` columns from later steps.
 */
import { checkSeq } from '../cells/dense';
import type { CellBackward, CellDef, CellForward, LayerParams, ParamSpec, SeqShape } from '../cells/types';
import { initLayerParams, initParam, type InitKind } from '../util/init';
import { Rng } from '../util/rng';
import type { CellParams, StepContext, Tensor, Tensor2D } from './api';
import type { LoadedCell } from './load';
import { CustomCellError } from './source';
import { loadTf } from './tf';

const INIT_KINDS: readonly InitKind[] = ['glorot_uniform', 'orthogonal', 'zeros', 'ones', 'lstm_bias'];
const MAX_PARAM_VALUES = 1 << 26;
const MAX_STATE = 1 << 20;
/** Sizes of the canonical inspection step (gate names, whether h is the state). */
const PROBE_INPUT = 3;
const PROBE_UNITS = 4;

export interface CustomCellInfo {
  name: string;
  file: string;
  sha256: string;
  /** TensorFlow.js backend the cell runs on. */
  backend: string;
  /** h is the state's first `units` columns (or the state): single-step diagnostics are available. */
  hIsState: boolean;
}

export interface CustomCellDef extends CellDef {
  kind: 'custom';
  custom: CustomCellInfo;
  /** The state size S for `units`, whether or not `stateSize` is advertised. */
  stateSizeOf(units: number): number;
}

interface StepResult {
  state: Tensor;
  h?: Tensor;
  gates: [string, Tensor][];
}

interface CustomCache {
  /** States s_0 … s_T, [(T + 1), B, S] (s_0 the initial state). */
  states: Float64Array;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

export function makeCustomCellDef(cell: LoadedCell): CustomCellDef {
  const { tf, backend } = loadTf();
  const { definition: def, file } = cell;
  const fail = (msg: string): never => {
    throw new CustomCellError(`${file}: ${msg}`, file);
  };
  const specCache = new Map<string, ParamSpec[]>();
  const what = `custom cell "${cell.name}"`;

  function paramSpecs(inputSize: number, units: number): ParamSpec[] {
    const key = `${inputSize}x${units}`;
    const hit = specCache.get(key);
    if (hit) return hit.map((s) => ({ ...s, shape: [...s.shape] }));
    let raw: unknown;
    try {
      raw = def.params(inputSize, units);
    } catch (e) {
      throw cell.userError(e, `params(${inputSize}, ${units}) threw`);
    }
    const specs = checkSpecs(raw, `params(${inputSize}, ${units})`, fail);
    specCache.set(key, specs);
    return paramSpecs(inputSize, units);
  }

  function stateSize(units: number): number {
    if (!def.stateSize) return units;
    let s: unknown;
    try {
      s = def.stateSize(units);
    } catch (e) {
      throw cell.userError(e, `stateSize(${units}) threw`);
    }
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 1 || s > MAX_STATE)
      fail(`stateSize(${units}) returned ${String(s)}; expected a positive integer`);
    return s as number;
  }

  /** Runs the user's step and checks what it returned. */
  function callStep(
    p: CellParams,
    x: Tensor2D,
    s: Tensor2D,
    ctx: StepContext,
    t: number,
    gateNames?: readonly string[],
    when = '',
  ): StepResult {
    let out: unknown;
    try {
      out = def.step(tf, p, x, s, ctx);
    } catch (e) {
      throw cell.userError(e, `step threw (t = ${t}${when})`);
    }
    const B = x.shape[0];
    if (typeof out !== 'object' || out === null)
      return fail(`step must return an object { state, h?, gates? } (got ${out === null ? 'null' : typeof out})`);
    const o = out as Record<string, unknown>;
    const tensor = (v: unknown, what: string, shape: number[]): Tensor => {
      if (!(v instanceof tf.Tensor)) return fail(`step returned ${what} that is not a tf tensor`);
      if (!sameShape(v.shape, shape)) fail(`step returned ${what} of shape ${fmt(v.shape)}; expected ${fmt(shape)}`);
      if (v.dtype !== 'float32') fail(`step returned ${what} of dtype ${v.dtype}; expected float32`);
      return v;
    };
    const state = tensor(o.state, '"state"', [B, ctx.stateSize]);
    const h = o.h === undefined ? undefined : tensor(o.h, '"h"', [B, ctx.units]);
    if (h === undefined && ctx.stateSize < ctx.units)
      fail(`stateSize(${ctx.units}) = ${ctx.stateSize} is smaller than units, so step must return "h" ([batch, units])`);
    const gates: [string, Tensor][] = [];
    if (o.gates !== undefined) {
      if (typeof o.gates !== 'object' || o.gates === null || Array.isArray(o.gates))
        fail('step returned "gates" that is not an object of tensors');
      for (const [name, v] of Object.entries(o.gates as Record<string, unknown>)) {
        if (!/^[A-Za-z_]\w{0,31}$/.test(name)) fail(`gate name "${name.slice(0, 40)}" is not an identifier`);
        if (name === 'cell') fail('the gate name "cell" is reserved (it is the second half of a 2·units state)');
        gates.push([name, tensor(v, `gate "${name}"`, [B, ctx.units])]);
      }
    }
    if (gateNames) {
      const got = gates.map((g) => g[0]).join(',');
      if (got !== gateNames.filter((g) => g !== 'cell').join(','))
        fail(`step returned gates {${got}} at t = ${t} but {${gateNames.join(',')}} before; return the same gates every step`);
    }
    return { state, h, gates };
  }

  function paramTensors(p: LayerParams, specs: ParamSpec[]): CellParams {
    const out: CellParams = {};
    for (const s of specs) {
      const v = p[s.name];
      const n = s.shape.reduce((a, b) => a * b, 1);
      if (!(v instanceof Float64Array) || v.length !== n) {
        for (const t of Object.values(out)) t.dispose();
        fail(`parameter "${s.name}" has ${v instanceof Float64Array ? v.length : 'no'} values; expected ${fmt(s.shape)} = ${n}`);
      }
      out[s.name] = tf.tensor(Float32Array.from(v), s.shape, 'float32');
    }
    return out;
  }

  const disposeAll = (p: CellParams) => {
    for (const t of Object.values(p)) t.dispose();
  };

  // One step from a random state tells the gate names and whether h is (the front of) the state.
  const inspection = tf.tidy(() => {
    const S = stateSize(PROBE_UNITS);
    const rng = new Rng(7);
    const specs = paramSpecs(PROBE_INPUT, PROBE_UNITS);
    const p: CellParams = {};
    for (const s of specs) p[s.name] = tf.tensor(Float32Array.from(initParam(rng, s.init, s.shape)), s.shape, 'float32');
    const x = tf.tensor2d(
      Float32Array.from({ length: 2 * PROBE_INPUT }, () => rng.normal()),
      [2, PROBE_INPUT],
    );
    const s0 = tf.tensor2d(
      Float32Array.from({ length: 2 * S }, () => rng.uniform() - 0.5),
      [2, S],
    );
    const r = callStep(
      p,
      x,
      s0,
      { inputSize: PROBE_INPUT, units: PROBE_UNITS, stateSize: S },
      0,
      undefined,
      `; load check with inputSize ${PROBE_INPUT}, units ${PROBE_UNITS}`,
    );
    let hIsState = r.h === undefined;
    if (r.h && S >= PROBE_UNITS) {
      const hv = r.h.dataSync();
      const sv = r.state.dataSync();
      hIsState = hv.every((v, i) => Math.abs(v - sv[Math.floor(i / PROBE_UNITS) * S + (i % PROBE_UNITS)]) <= 1e-6 * (1 + Math.abs(v)));
    }
    const names = r.gates.map((g) => g[0]);
    if (hIsState && S === 2 * PROBE_UNITS) names.push('cell');
    return { names, hIsState };
  });

  const gateNames: readonly string[] = inspection.names;
  const hIsState = inspection.hIsState;

  function forward(p: LayerParams, x: Float64Array, shape: SeqShape, initialState?: Float64Array): CellForward {
    checkSeq(what, x, shape);
    const { T, B, inputSize: I, units: H } = shape;
    const S = stateSize(H);
    if (initialState !== undefined && initialState.length !== B * S) {
      throw new Error(`${what}: initialState has ${initialState.length} values, expected B*S = ${B}*${S}`);
    }
    const ctx: StepContext = { inputSize: I, units: H, stateSize: S };
    const states = new Float64Array((T + 1) * B * S);
    if (initialState) states.set(initialState);
    const h = new Float64Array(T * B * H);
    const gates: Record<string, Float64Array> = {};
    for (const g of gateNames) gates[g] = new Float64Array(T * B * H);
    const P = paramTensors(p, paramSpecs(I, H));
    try {
      for (let t = 0; t < T; t++) {
        tf.tidy(() => {
          const xt = tf.tensor2d(Float32Array.from(x.subarray(t * B * I, (t + 1) * B * I)), [B, I]);
          const st = tf.tensor2d(Float32Array.from(states.subarray(t * B * S, (t + 1) * B * S)), [B, S]);
          const r = callStep(P, xt, st, ctx, t, gateNames);
          const sv = r.state.dataSync();
          states.set(sv, (t + 1) * B * S);
          if (r.h) h.set(r.h.dataSync(), t * B * H);
          else for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) h[(t * B + b) * H + j] = sv[b * S + j];
          for (const [name, g] of r.gates) gates[name].set(g.dataSync(), t * B * H);
          if (gates.cell && S === 2 * H)
            for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) gates.cell[(t * B + b) * H + j] = sv[b * S + H + j];
        });
      }
    } finally {
      disposeAll(P);
    }
    const cache: CustomCache = { states };
    return { h, gates, cache };
  }

  function backward(p: LayerParams, x: Float64Array, fwd: CellForward, dhOut: Float64Array, shape: SeqShape): CellBackward {
    checkSeq(what, x, shape);
    const { T, B, inputSize: I, units: H } = shape;
    const S = stateSize(H);
    const cache = fwd.cache as CustomCache;
    if (!cache || !(cache.states instanceof Float64Array) || cache.states.length !== (T + 1) * B * S) {
      throw new Error(`${what}: backward needs the forward result of the same cell and shape`);
    }
    if (dhOut.length !== T * B * H) throw new Error(`${what}: dhOut has ${dhOut.length} values, expected ${T * B * H}`);
    const specs = paramSpecs(I, H);
    const ctx: StepContext = { inputSize: I, units: H, stateSize: S };
    const grads: LayerParams = {};
    for (const s of specs) grads[s.name] = new Float64Array(s.shape.reduce((a, b) => a * b, 1));
    const dx = new Float64Array(T * B * I);
    const dh = new Float64Array(T * B * H);
    let dS = new Float64Array(B * S); // dL/ds_{t+1} through the steps after t
    const P = paramTensors(p, specs);
    const names = specs.map((s) => s.name);
    try {
      for (let t = T - 1; t >= 0; t--) {
        const hOff = t * B * H;
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < H; j++) dh[hOff + b * H + j] = dhOut[hOff + b * H + j] + (j < S ? dS[b * S + j] : 0);
        }
        tf.tidy(() => {
          const xt = tf.tensor2d(Float32Array.from(x.subarray(t * B * I, (t + 1) * B * I)), [B, I]);
          const st = tf.tensor2d(Float32Array.from(cache.states.subarray(t * B * S, (t + 1) * B * S)), [B, S]);
          const seedS = tf.tensor2d(Float32Array.from(dS), [B, S]);
          const seedH = tf.tensor2d(Float32Array.from(dhOut.subarray(hOff, hOff + B * H)), [B, H]);
          const inputs = [...names.map((n) => P[n]), xt, st];
          const f = () => {
            const r = callStep(P, xt, st, ctx, t);
            // sum(s_{t+1} ⊙ dS) + sum(h_{t+1} ⊙ dhOut_t): its gradient is the step's VJP.
            const onState = tf.sum(tf.mul(r.state, seedS));
            if (r.h) return tf.add(onState, tf.sum(tf.mul(r.h, seedH))) as Tensor;
            const front = S === H ? r.state : tf.slice(r.state, [0, 0], [B, H]);
            return tf.add(onState, tf.sum(tf.mul(front, seedH))) as Tensor;
          };
          let g: (Tensor | undefined)[];
          try {
            g = tf.engine().gradients(f, inputs, undefined, true).grads as (Tensor | undefined)[];
          } catch (e) {
            if (e instanceof CustomCellError) throw e;
            throw new CustomCellError(
              `${file}: backward through step failed (t = ${t}): ${(e as Error).message} (is every op in step differentiable?)`,
              file,
              undefined,
              undefined,
              { cause: e },
            );
          }
          names.forEach((n, k) => {
            const gk = g[k];
            if (!gk) return;
            const v = gk.dataSync();
            const acc = grads[n];
            for (let i = 0; i < acc.length; i++) acc[i] += v[i];
          });
          const gx = g[names.length];
          if (gx) dx.set(gx.dataSync(), t * B * I);
          const gs = g[names.length + 1];
          dS = gs ? Float64Array.from(gs.dataSync()) : new Float64Array(B * S);
        });
      }
    } finally {
      disposeAll(P);
    }
    return { dx, grads, dh };
  }

  const cellDef: CustomCellDef = {
    kind: 'custom',
    gateNames,
    paramSpecs,
    forward,
    backward,
    custom: { name: cell.name, file, sha256: cell.sha256, backend, hIsState },
    stateSizeOf: stateSize,
  };
  // Advertising stateSize promises diagnostics that the state row is [h, …]: only true when h is the state.
  if (hIsState) cellDef.stateSize = stateSize;
  return cellDef;
}

function checkSpecs(raw: unknown, what: string, fail: (msg: string) => never): ParamSpec[] {
  if (!Array.isArray(raw)) return fail(`${what} must return an array of { name, shape, init }`);
  if (raw.length === 0) fail(`${what} returned no parameters`);
  const seen = new Set<string>();
  return raw.map((r: unknown, i): ParamSpec => {
    if (typeof r !== 'object' || r === null) return fail(`${what}[${i}] is not an object { name, shape, init }`);
    const o = r as Record<string, unknown>;
    const name = o.name;
    if (typeof name !== 'string' || !/^[A-Za-z_]\w{0,63}$/.test(name))
      return fail(`${what}[${i}].name must be an identifier (letters, digits, _), got ${JSON.stringify(name)}`);
    if (seen.has(name)) fail(`${what}: parameter name "${name}" is used twice`);
    seen.add(name);
    const shape = o.shape;
    if (!Array.isArray(shape) || shape.length === 0 || shape.length > 4 || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
      return fail(`parameter "${name}": shape must be 1 to 4 positive integers, got ${JSON.stringify(shape)}`);
    }
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (size > MAX_PARAM_VALUES) fail(`parameter "${name}": ${size} values is too many`);
    if (!(INIT_KINDS as readonly unknown[]).includes(o.init))
      fail(`parameter "${name}": init must be one of ${INIT_KINDS.join(', ')}, got ${JSON.stringify(o.init)}`);
    if (o.init === 'lstm_bias' && size % 4 !== 0) fail(`parameter "${name}": init "lstm_bias" needs a size divisible by 4`);
    return { name, shape: [...(shape as number[])], init: o.init as InitKind };
  });
}

export interface DryRunResult {
  inputSize: number;
  units: number;
  stateSize: number;
  params: ParamSpec[];
  gateNames: string[];
}

/**
 * Forward and backward on a tiny random batch (T = 2, B = 2, a random initial state) at these sizes:
 * catches shape errors, non-differentiable ops and non-finite results before a run starts.
 */
export function dryRunCell(def: CustomCellDef, inputSize: number, units: number, seed = 1): DryRunResult {
  const rng = new Rng(seed);
  const specs = def.paramSpecs(inputSize, units);
  const p = initLayerParams(specs, rng);
  const S = def.stateSizeOf(units);
  const T = 2;
  const B = 2;
  const shape = { T, B, inputSize, units };
  const x = Float64Array.from({ length: T * B * inputSize }, () => rng.normal());
  const s0 = Float64Array.from({ length: B * S }, () => rng.uniform() - 0.5);
  const fwd = def.forward(p, x, shape, s0);
  const where = def.custom.file;
  const finite = (a: Float64Array, what: string) => {
    if (!a.every(Number.isFinite))
      throw new CustomCellError(`${where}: ${what} is not finite on a small random batch (inputSize ${inputSize}, units ${units})`, where);
  };
  finite(fwd.h, 'h');
  const dhOut = Float64Array.from({ length: T * B * units }, () => rng.normal());
  const bwd = def.backward(p, x, fwd, dhOut, shape);
  for (const [n, g] of Object.entries(bwd.grads)) finite(g, `the gradient of "${n}"`);
  finite(bwd.dx, 'the gradient of x');
  return { inputSize, units, stateSize: S, params: specs, gateNames: [...def.gateNames] };
}
