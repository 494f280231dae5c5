/**
 * The wasm engine's batch split: a layer call's sequences are independent, so the batch is cut into
 * contiguous row ranges, one per thread; the calling thread runs the first range on its own instance while
 * worker threads, each with its own instance of the same compiled module, run the others. Inputs and outputs
 * travel through one SharedArrayBuffer per worker (row ranges gathered from and scattered to the [T][B][n]
 * arrays, O(T·B·H) against the O(T·B·H²) kernels); weight gradients are summed over the ranges.
 *
 * The contract stays synchronous: the caller blocks in Atomics.wait until every worker has set its flag
 * (workers have their own event loops, so the jobs posted before blocking run meanwhile).
 * Threads: RNN_FAST_THREADS (the same knob as the native engine's), default min(2, available cores).
 */
import { availableParallelism } from 'node:os';
import { receiveMessageOnPort, MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { wasmLayerCall, type CallSlot, type WasmCallExports } from './wasm-call';

/** A slot of a split call: `rowWidth` > 0 for [T][B][rowWidth] arrays (cut by rows); 0 for weights (whole in every range) and weight gradients (summed over the ranges). */
export interface SplitSlot extends CallSlot {
  rowWidth: number;
  /** Steps of a row-cut array (default T; 1 for an initial state [B][rowWidth]). */
  steps?: number;
}

export interface SplitCall {
  descLen: number;
  scratchWord: number;
  /** [kind, T, B, I, H, …]: the descriptor's first words (B is replaced by each range's rows). */
  shape: readonly number[];
  backward: boolean;
  /** Ranges start at multiples of this many rows (a tiled backward's probes stay whole); default 1. */
  rowBlock?: number;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const errors = workerData.errors;
const __name = (f) => f;
const wasmLayerCall = ${wasmLayerCall.toString()};
const exportsOf = new WebAssembly.Instance(workerData.module, {}).exports;
const flag = workerData.flag;
// A worker that ends (terminated, or an error outside a job) must not leave a caller waiting.
process.on('exit', () => {
  if (Atomics.load(flag, 0) === 0) {
    errors.postMessage('a wasm worker thread exited');
    Atomics.store(flag, 0, 2);
    Atomics.notify(flag, 0);
  }
});
parentPort.on('message', (job) => {
  try {
    const region = new Float32Array(job.sab);
    const slots = job.slots.map((s) => ({
      word: s.word,
      len: s.len,
      src: s.in ? region.subarray(s.at, s.at + s.len) : undefined,
      dst: s.out ? region.subarray(s.at, s.at + s.len) : undefined,
    }));
    wasmLayerCall(exportsOf, job.descLen, job.scratchWord, job.shape, slots, job.backward);
    Atomics.store(flag, 0, 1);
  } catch (e) {
    errors.postMessage(String(e && e.message ? e.message : e));
    Atomics.store(flag, 0, 2);
  }
  Atomics.notify(flag, 0);
});
`;

interface PoolWorker {
  worker: Worker;
  flag: Int32Array;
  port: MessagePort;
  sab: SharedArrayBuffer;
}

let pool: PoolWorker[] = [];
let poolModule: unknown;
let threadsOverride: number | undefined;
/** Below this many T·B·H per thread the split costs more than it saves. */
let minWork = 2048;

/** Threads a call may use (RNN_FAST_THREADS, else up to 2). */
export function wasmThreads(): number {
  if (threadsOverride !== undefined) return threadsOverride;
  const env = Number(process.env.RNN_FAST_THREADS);
  const n = Number.isInteger(env) && env > 0 ? env : Math.min(2, availableParallelism());
  return Math.max(1, Math.min(n, 16));
}

/** Tests: the thread count and the smallest T·B·H per thread worth a split (undefined restores the defaults). */
export function setWasmThreads(threads: number | undefined, minWorkPerThread = 2048): void {
  threadsOverride = threads;
  minWork = minWorkPerThread;
}

/** How many row ranges a call of this shape is cut into. */
export function splitCount(T: number, B: number, H: number): number {
  const n = Math.min(wasmThreads(), B, Math.floor((T * B * H) / Math.max(1, minWork)));
  return Math.max(1, n);
}

function worker(i: number, module: unknown): PoolWorker {
  if (poolModule !== module) {
    for (const p of pool) void p.worker.terminate();
    pool = [];
    poolModule = module;
  }
  while (pool.length <= i) {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    // Errors come back on a port of their own, read synchronously once the flag says so.
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, flag, errors: port2 }, transferList: [port2] });
    w.unref();
    port1.unref();
    pool.push({ worker: w, flag, port: port1, sab: new SharedArrayBuffer(0) });
  }
  return pool[i];
}

/** Floats of a range's region: every slot at a 16-float boundary. */
function layout(slots: readonly SplitSlot[], T: number, rows: number): { at: number[]; len: number[]; total: number } {
  const at: number[] = [];
  const len: number[] = [];
  let off = 0;
  for (const s of slots) {
    const n = s.rowWidth ? (s.steps ?? T) * rows * s.rowWidth : s.len;
    at.push(off);
    len.push(n);
    off += Math.ceil(n / 16) * 16;
  }
  return { at, len, total: off };
}

function gather(src: Float32Array, T: number, B: number, n: number, b0: number, b1: number, out: Float32Array): void {
  const r = (b1 - b0) * n;
  for (let t = 0; t < T; t++) out.set(src.subarray((t * B + b0) * n, (t * B + b1) * n), t * r);
}

function scatter(part: Float32Array, T: number, B: number, n: number, b0: number, b1: number, dst: Float32Array): void {
  const r = (b1 - b0) * n;
  for (let t = 0; t < T; t++) dst.set(part.subarray(t * r, (t + 1) * r), (t * B + b0) * n);
}

let mainRegion = new Float32Array(0);

/**
 * Runs the call on `parts` row ranges (the first on `main`, the rest on workers of `module`); `slots` as for
 * a whole-batch call. Throws the first worker's error.
 */
export function splitLayerCall(main: WasmCallExports, module: unknown, call: SplitCall, slots: readonly SplitSlot[], parts: number): void {
  const [, T, B] = call.shape;
  const block = call.rowBlock ?? 1;
  const bounds = Array.from({ length: parts + 1 }, (_, k) => Math.round((k * (B / block)) / parts) * block);
  const shapeOf = (rows: number) => call.shape.map((v, i) => (i === 2 ? rows : v));
  const regions: Float32Array[] = [];
  const layouts: ReturnType<typeof layout>[] = [];
  const fill = (k: number, region: Float32Array) => {
    const lay = layouts[k];
    slots.forEach((s, i) => {
      if (!s.src) return;
      const view = region.subarray(lay.at[i], lay.at[i] + lay.len[i]);
      if (s.rowWidth) gather(s.src, s.steps ?? T, B, s.rowWidth, bounds[k], bounds[k + 1], view);
      else view.set(s.src.subarray(0, s.len));
    });
  };
  // Post the workers' ranges first, then compute the first range here while they run.
  for (let k = 1; k < parts; k++) {
    const lay = layout(slots, T, bounds[k + 1] - bounds[k]);
    layouts[k] = lay;
    const w = worker(k - 1, module);
    if (w.sab.byteLength < lay.total * 4) w.sab = new SharedArrayBuffer(lay.total * 4);
    const region = new Float32Array(w.sab, 0, lay.total);
    regions[k] = region;
    fill(k, region);
    Atomics.store(w.flag, 0, 0);
    w.worker.postMessage({
      sab: w.sab,
      descLen: call.descLen,
      scratchWord: call.scratchWord,
      shape: shapeOf(bounds[k + 1] - bounds[k]),
      backward: call.backward,
      slots: slots.map((s, i) => ({ word: s.word, len: lay.len[i], at: lay.at[i], in: !!s.src, out: !!s.dst })),
    });
  }
  layouts[0] = layout(slots, T, bounds[1] - bounds[0]);
  if (mainRegion.length < layouts[0].total) mainRegion = new Float32Array(layouts[0].total);
  regions[0] = mainRegion;
  fill(0, mainRegion);
  let failure: string | undefined;
  try {
    wasmLayerCall(
      main,
      call.descLen,
      call.scratchWord,
      shapeOf(bounds[1] - bounds[0]),
      slots.map((s, i) => {
        const view = mainRegion.subarray(layouts[0].at[i], layouts[0].at[i] + layouts[0].len[i]);
        return { word: s.word, len: layouts[0].len[i], src: s.src ? view : undefined, dst: s.dst ? view : undefined };
      }),
      call.backward,
    );
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e);
  }
  for (let k = 1; k < parts; k++) {
    const w = pool[k - 1];
    while (Atomics.load(w.flag, 0) === 0) Atomics.wait(w.flag, 0, 0, 1000);
    if (Atomics.load(w.flag, 0) === 2) failure ??= String(receiveMessageOnPort(w.port)?.message ?? 'a wasm worker failed');
  }
  if (failure) throw new Error(failure);
  // Outputs: row ranges back in place; weight gradients summed over the ranges.
  slots.forEach((s, i) => {
    if (!s.dst) return;
    if (s.rowWidth) {
      for (let k = 0; k < parts; k++) {
        const lay = layouts[k];
        scatter(regions[k].subarray(lay.at[i], lay.at[i] + lay.len[i]), s.steps ?? T, B, s.rowWidth, bounds[k], bounds[k + 1], s.dst);
      }
      return;
    }
    const out = s.dst.subarray(0, s.len);
    out.set(regions[0].subarray(layouts[0].at[i], layouts[0].at[i] + s.len));
    for (let k = 1; k < parts; k++) {
      const part = regions[k].subarray(layouts[k].at[i], layouts[k].at[i] + s.len);
      for (let j = 0; j < s.len; j++) out[j] += part[j];
    }
  });
}

/** Ends the workers (their instances' memory with them). */
export function releaseWasmThreads(): void {
  for (const p of pool) void p.worker.terminate();
  pool = [];
  poolModule = undefined;
  mainRegion = new Float32Array(0);
}
