/**
 * One layer call on one instance of the wasm module. Self-contained on purpose (no outer names, only its
 * arguments): the batch-splitting workers (wasm-threads.ts) run this same function from its source text, so
 * the main thread and the workers place buffers by one piece of code.
 */

/** The exports a layer call uses (native/wasm-driver.cpp). */
export interface WasmCallExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  rnn_desc(): number;
  rnn_heap_base(): number;
  rnn_scratch_floats(): number;
  rnn_forward(): void;
  rnn_backward(): void;
}

/** A buffer of the call: its descriptor word, length, and the array copied in before or out after the call. */
export interface CallSlot {
  word: number;
  len: number;
  src?: Float32Array;
  dst?: Float32Array;
}

/**
 * Places `slots` one after the other from the heap base (64-byte aligned, memory grown as needed), writes
 * their offsets into the descriptor (`descLen` words, shape [kind, T, B, I, H] first, the scratch's word
 * `scratchWord`), runs forward or backward, and copies the outputs out.
 */
export function wasmLayerCall(
  w: WasmCallExports,
  descLen: number,
  scratchWord: number,
  shape: readonly number[],
  slots: readonly CallSlot[],
  backward: boolean,
): void {
  const PAGE = 65536;
  const MAX_BYTES = 4 * 1024 ** 3; // wasm32 addresses 4 GiB; V8 allows all of it
  const desc0 = new Int32Array(w.memory.buffer, w.rnn_desc(), descLen);
  desc0.fill(0);
  desc0.set(shape);
  const scratchFloats = w.rnn_scratch_floats();
  let off = w.rnn_heap_base();
  const at: number[] = [];
  for (const len of [...slots.map((s) => s.len), scratchFloats]) {
    at.push(off);
    off += Math.ceil((len * 4) / 64) * 64;
  }
  if (off > MAX_BYTES)
    throw new Error(`wasm engine: this layer call needs ${(off / 2 ** 20).toFixed(0)} MB, more than the 4096 MB a wasm32 memory holds`);
  const have = w.memory.buffer.byteLength;
  if (off > have) w.memory.grow(Math.ceil((off - have) / PAGE));
  const mem = w.memory.buffer; // after grow: the old buffer is detached
  const d = new Int32Array(mem, w.rnn_desc(), descLen);
  slots.forEach((s, i) => {
    d[s.word] = at[i];
    if (s.src) new Float32Array(mem, at[i], s.len).set(s.src.subarray(0, s.len));
  });
  d[scratchWord] = at[slots.length];
  if (backward) w.rnn_backward();
  else w.rnn_forward();
  slots.forEach((s, i) => s.dst?.set(new Float32Array(mem, at[i], s.len)));
}
