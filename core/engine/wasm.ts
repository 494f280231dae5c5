/**
 * The WebAssembly engine: the same float32 kernels as the native addon (native/kernels.cpp, compiled by clang
 * for wasm32 with 128-bit SIMD into dist/wasm/rnn_kernels.wasm, see native/wasm-driver.cpp), for machines where
 * the addon cannot load. One instance, single-threaded. A layer call copies its buffers into the module's
 * linear memory, runs, and copies the outputs back: the copies are O(T·B·H) against O(T·B·H²) of compute.
 * RNN_MEMORY_HIDE_WASM=1 hides the module (tests and the bench measure the fallback to the reference engine).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { referenceCell } from '../cells/index';
import type { CellDef, CellKind } from '../cells/types';
import { KIND_CODE, makeKernelCell, type BackwardBuffers, type LayerBuffers, type LayerKernels } from './float32-cells';

/** The part of the WebAssembly JS API used here (the project's lib is ES2022 without DOM, which declares it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmModule {
  readonly __brand: 'WebAssembly.Module';
}
interface WasmApi {
  Module: { new (bytes: Uint8Array): WasmModule; exports(m: WasmModule): { name: string; kind: string }[] };
  Instance: new (m: WasmModule, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** native/wasm-driver.cpp rnn_abi(). */
const WASM_ABI = 1;

/** Descriptor words, in the order of native/wasm-driver.cpp's enum. */
const DESC = [
  'kind', 'T', 'B', 'I', 'H',
  'x', 'U', 'W', 'bias', 'biasR', 'wdiag', 'h', 's0', 's1', 's2', 's3', 's4',
  'dhOut', 'dx', 'dU', 'dW', 'dbias', 'dbiasR', 'dwdiag', 'dh', 'scratch',
] as const; // prettier-ignore
type DescWord = (typeof DESC)[number];

interface WasmExports {
  memory: WasmMemory;
  rnn_abi(): number;
  rnn_desc(): number;
  rnn_heap_base(): number;
  rnn_scratch_floats(): number;
  rnn_forward(): void;
  rnn_backward(): void;
  rnn_tanh(x: number, y: number, n: number): void;
  rnn_sigmoid(x: number, y: number, n: number): void;
}

export interface WasmEngineStatus {
  available: boolean;
  /** Why the engine is unavailable. */
  reason?: string;
  path?: string;
}

const PAGE = 65536;
/** wasm32 addresses 4 GiB; V8 allows all of it. */
const MAX_BYTES = 4 * 1024 ** 3;

function candidatePaths(): string[] {
  // Bundled: dist/*.js next to dist/wasm; from sources (tsx): core/engine/../../dist/wasm.
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const rel = join('wasm', 'rnn_kernels.wasm');
  return [
    process.env.RNN_WASM_PATH,
    join(here, rel),
    join(here, '..', 'dist', rel),
    join(here, '..', '..', 'dist', rel),
    join(process.cwd(), 'dist', rel),
  ].filter((p): p is string => typeof p === 'string' && p.length > 0);
}

let loaded: { module: WasmModule | null; status: WasmEngineStatus } | undefined;

function loadModule(): { module: WasmModule | null; status: WasmEngineStatus } {
  if (loaded) return loaded;
  if (process.env.RNN_MEMORY_HIDE_WASM === '1') {
    loaded = { module: null, status: { available: false, reason: 'wasm module hidden by RNN_MEMORY_HIDE_WASM=1' } };
    return loaded;
  }
  const tried: string[] = [];
  for (const path of candidatePaths()) {
    if (!existsSync(path)) continue;
    try {
      // Synchronous compile (allowed in Node for any size) keeps the CellDef contract synchronous.
      const module = new WA.Module(readFileSync(path));
      const names = WA.Module.exports(module).map((e) => e.name);
      if (!names.includes('rnn_forward')) throw new Error('not the rnn_kernels module');
      loaded = { module, status: { available: true, path } };
      const abi = instance().rnn_abi();
      if (abi !== WASM_ABI) throw new Error(`interface version ${abi}, expected ${WASM_ABI} (rebuild with npm run build)`);
      return loaded;
    } catch (e) {
      tried.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
      inst = undefined;
    }
  }
  const reason = tried.length
    ? `wasm module failed to load (${tried.join('; ')})`
    : 'wasm module dist/wasm/rnn_kernels.wasm not built (npm run build needs clang and lld with the wasm32 target: bash scripts/wasm-setup.sh)';
  loaded = { module: null, status: { available: false, reason } };
  return loaded;
}

let inst: WasmExports | undefined;

function instance(): WasmExports {
  if (!inst) {
    const module = loadModule().module;
    if (!module) throw new Error(`wasm engine unavailable: ${loadModule().status.reason}`);
    inst = new WA.Instance(module, {}).exports as unknown as WasmExports;
  }
  return inst;
}

export function wasmEngineStatus(): WasmEngineStatus {
  return { ...loadModule().status };
}

// ------------------------------------------------------------------------------------------------
// Layer calls: buffers placed one after the other from the heap base, 64-byte aligned, memory grown as needed.

interface Placed {
  name: DescWord;
  len: number;
  /** Copied in before the call. */
  src?: Float32Array;
  /** Copied out after the call. */
  dst?: Float32Array;
}

function check(what: string, a: Float32Array | null | undefined, len: number): Float32Array {
  if (!(a instanceof Float32Array)) throw new Error(`wasm engine: ${what} must be a Float32Array`);
  if (a.length !== len) throw new Error(`wasm engine: ${what} has length ${a.length}, expected ${len}`);
  return a;
}

function shapes(kind: number, T: number, B: number, I: number, H: number) {
  if (![0, 1, 2, 3].includes(kind)) throw new Error(`wasm engine: unknown cell kind ${kind}`);
  for (const [k, v] of Object.entries({ T, B, inputSize: I, units: H }))
    if (!Number.isInteger(v) || v < 1) throw new Error(`wasm engine: ${k} must be a positive integer (got ${v})`);
  const GI = kind === 3 ? 4 * H : 3 * H;
  const GR = kind === 0 ? 0 : kind === 1 ? 2 * H : GI;
  return { GI, GR, TB: T * B, nStates: kind === 3 ? 5 : kind === 2 ? 4 : 3 };
}

/** The buffers forward and backward share, as placements (h and states are outputs of forward, inputs of backward). */
function common(kind: number, T: number, B: number, I: number, H: number, bufs: LayerBuffers, forward: boolean): Placed[] {
  const { GI, GR, TB, nStates } = shapes(kind, T, B, I, H);
  const out: Placed[] = [
    { name: 'x', len: TB * I, src: check('x', bufs.x, TB * I) },
    { name: 'U', len: I * GI, src: check('U', bufs.U, I * GI) },
    { name: 'bias', len: GI, src: check('bias', bufs.bias, GI) },
  ];
  if (GR) out.push({ name: 'W', len: H * GR, src: check('W', bufs.W, H * GR) });
  if (kind === 2) out.push({ name: 'biasR', len: 3 * H, src: check('biasR', bufs.biasR, 3 * H) });
  if (kind === 0) out.push({ name: 'wdiag', len: 2 * H, src: check('wdiag', bufs.wdiag, 2 * H) });
  const io = (a: Float32Array): Partial<Placed> => (forward ? { dst: a } : { src: a });
  out.push({ name: 'h', len: TB * H, ...io(check('h', bufs.h, TB * H)) });
  if (!Array.isArray(bufs.states) || bufs.states.length < nStates) throw new Error(`wasm engine: states must hold ${nStates} arrays`);
  for (let k = 0; k < nStates; k++) out.push({ name: `s${k}` as DescWord, len: TB * H, ...io(check('state', bufs.states[k], TB * H)) });
  return out;
}

function run(kind: number, T: number, B: number, I: number, H: number, placed: Placed[], backward: boolean): void {
  const w = instance();
  const desc = new Int32Array(w.memory.buffer, w.rnn_desc(), DESC.length);
  desc.fill(0);
  desc.set([kind, T, B, I, H]);
  const scratchFloats = w.rnn_scratch_floats();
  let off = w.rnn_heap_base();
  const at: number[] = [];
  for (const p of [...placed, { name: 'scratch' as const, len: scratchFloats }]) {
    at.push(off);
    off += Math.ceil((p.len * 4) / 64) * 64;
  }
  if (off > MAX_BYTES)
    throw new Error(`wasm engine: this layer call needs ${(off / 2 ** 20).toFixed(0)} MB, more than the 4096 MB a wasm32 memory holds`);
  const have = w.memory.buffer.byteLength;
  if (off > have) w.memory.grow(Math.ceil((off - have) / PAGE));
  const mem = w.memory.buffer; // after grow: the old buffer is detached
  const d = new Int32Array(mem, w.rnn_desc(), DESC.length);
  placed.forEach((p, i) => {
    d[DESC.indexOf(p.name)] = at[i];
    if (p.src) new Float32Array(mem, at[i], p.len).set(p.src);
  });
  d[DESC.indexOf('scratch')] = at[placed.length];
  if (backward) w.rnn_backward();
  else w.rnn_forward();
  placed.forEach((p, i) => p.dst?.set(new Float32Array(mem, at[i], p.len)));
}

/** The module as LayerKernels (the contract of the native addon's forward/backward). */
const wasmKernels: LayerKernels = {
  forward(kind, T, B, I, H, bufs) {
    run(kind, T, B, I, H, common(kind, T, B, I, H, bufs, true), false);
  },
  backward(kind, T, B, I, H, bufs: BackwardBuffers) {
    const { GI, GR, TB } = shapes(kind, T, B, I, H);
    const placed = common(kind, T, B, I, H, bufs, false);
    placed.push({ name: 'dhOut', len: TB * H, src: check('dhOut', bufs.dhOut, TB * H) });
    placed.push({ name: 'dx', len: TB * I, dst: check('dx', bufs.dx, TB * I) });
    placed.push({ name: 'dh', len: TB * H, dst: check('dh', bufs.dh, TB * H) });
    // dU null: only dx and dh are wanted (diagnostics), the weight-gradient products are skipped.
    if (bufs.dU) {
      placed.push({ name: 'dU', len: I * GI, dst: check('dU', bufs.dU, I * GI) });
      placed.push({ name: 'dbias', len: GI, dst: check('dbias', bufs.dbias, GI) });
      if (GR) placed.push({ name: 'dW', len: H * GR, dst: check('dW', bufs.dW, H * GR) });
      if (kind === 2) placed.push({ name: 'dbiasR', len: 3 * H, dst: check('dbiasR', bufs.dbiasR, 3 * H) });
      if (kind === 0) placed.push({ name: 'dwdiag', len: 2 * H, dst: check('dwdiag', bufs.dwdiag, 2 * H) });
    }
    run(kind, T, B, I, H, placed, true);
  },
  toF32(src, dst) {
    dst.set(src);
  },
  toF64(src, dst) {
    dst.set(src);
  },
};

/** The module's tanh or sigmoid approximation over x (accuracy tests). */
export function wasmActivation(which: 'tanh' | 'sigmoid', x: Float32Array): Float32Array {
  const w = instance();
  const base = w.rnn_heap_base();
  const need = base + 2 * Math.ceil((x.length * 4) / 64) * 64;
  if (need > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((need - w.memory.buffer.byteLength) / PAGE));
  const yOff = base + Math.ceil((x.length * 4) / 64) * 64;
  new Float32Array(w.memory.buffer, base, x.length).set(x);
  (which === 'tanh' ? w.rnn_tanh : w.rnn_sigmoid)(base, yOff, x.length);
  return new Float32Array(w.memory.buffer, yOff, x.length).slice();
}

const cells = new Map<CellKind, CellDef>();

/** The wasm CellDef for `kind`, or null when the module is unavailable or lacks that cell. */
export function wasmCell(kind: CellKind): CellDef | null {
  if (!loadModule().module || KIND_CODE[kind] === undefined) return null;
  let def = cells.get(kind);
  if (!def) {
    referenceCell(kind); // throws on an unknown kind
    def = makeKernelCell(kind, wasmKernels, 'wasm');
    cells.set(kind, def);
  }
  return def;
}

/** Drops the instance and its linear memory (wasm memory cannot shrink); the next call instantiates afresh. */
export function releaseWasmMemory(): void {
  inst = undefined;
}
