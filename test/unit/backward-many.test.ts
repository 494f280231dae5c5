/**
 * backwardMany of the float32 engines (native and wasm): k backward passes of one forward pass run as one kernel
 * call over k·B rows, which read the forward's rows in place (row r from state row r mod B). Each pass's dh must
 * equal that pass's own backward on the same engine (bit for bit: rows never interact) and the reference
 * engine's dh to float32 tolerance, for every cell and odd sizes, from the zero state and from a given one,
 * under 1–3 threads (native's pool; wasm's row ranges, which keep probes whole); a released forward refuses.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceCell } from '../../core/cells/index';
import { CELL_KINDS, cellStateSize, passOf, seededDhOut, type CellDef, type CellKind, type SeqShape } from '../../core/cells/types';
import { fastCell, fastEngineStatus, nativeKernels, releaseForward } from '../../core/engine/fast';
import { wasmCell, wasmEngineStatus, wasmKernels } from '../../core/engine/wasm';
import type { LayerKernels } from '../../core/engine/float32-cells';
import { setWasmThreads } from '../../core/engine/wasm-threads';
import { Rng } from '../../core/util/rng';
import { float32Close } from '../helpers/float32-close';
import { noisyParams } from '../helpers/params';

const engines: [string, (k: CellKind) => CellDef | null, string | false][] = [
  ['native', fastCell, fastEngineStatus().available ? false : 'native addon not built'],
  ['wasm', wasmCell, wasmEngineStatus().available ? false : 'wasm module not built'],
];
const SHAPES: SeqShape[] = [
  { T: 9, B: 3, inputSize: 1, units: 17 },
  { T: 5, B: 1, inputSize: 3, units: 100 },
  { T: 4, B: 2, inputSize: 129, units: 3 },
];

for (const [engine, cellOf, skip] of engines) {
  test(`${engine}: backwardMany equals one backward per probe and the reference, every cell`, { skip }, () => {
    for (const kind of CELL_KINDS) {
      const def = cellOf(kind);
      if (!def?.backwardMany) continue;
      const ref = referenceCell(kind);
      SHAPES.forEach((shape, si) => {
        const rng = new Rng(31 + si);
        const { T, B, inputSize: I, units: H } = shape;
        const p = noisyParams(ref, I, H, rng, 0.4);
        const x = Float64Array.from({ length: T * B * I }, () => rng.normal());
        const k = 3 + si;
        // Probes as the Jacobian estimate uses them: a vector at the last step, zero before.
        const seeds = Array.from({ length: k }, () => Float64Array.from({ length: B * H }, () => rng.normal()));
        const fwd = def.forward(p, x, shape);
        const many = def.backwardMany!(p, x, fwd, seeds, shape);
        assert.equal(many.passes, k);
        const fr = ref.forward(p, x, shape);
        seeds.forEach((seed, q) => {
          const tag = `${engine} ${kind} shape ${si} pass ${q}`;
          const d = seededDhOut(seed, shape);
          const one = def.backward(p, x, fwd, d, shape, { paramGrads: false }).dh;
          assert.deepEqual(passOf(many, q, shape), one, `${tag}: equals its own backward`);
          float32Close(`${tag} vs reference`, passOf(many, q, shape), ref.backward(p, x, fr, d, shape).dh, 1e-4);
        });
        many.release?.();
        assert.throws(() => def.backwardMany!(p, x, fwd, [seeds[0], seeds[0].subarray(1)], shape), /seed/);
        releaseForward(fwd);
        assert.throws(() => def.backwardMany!(p, x, fwd, seeds, shape), /releaseForward/);
      });
    }
  });
}

for (const [engine, cellOf, skip] of engines) {
  test(`${engine}: in-place probe rows under 1–3 threads, from the zero state and from a given one`, { skip }, () => {
    const shape = { T: 6, B: 5, inputSize: 2, units: 19 };
    const { T, B, inputSize: I, units: H } = shape;
    // Native's pool cuts rows across probe blocks; wasm's ranges (every split allowed here) cut at whole probes.
    const setThreads = (n: number | undefined) => (engine === 'native' ? nativeKernels()!.setThreads(n ?? 0) : setWasmThreads(n, 1));
    try {
      for (const threads of [1, 2, 3]) {
        setThreads(threads);
        for (const kind of CELL_KINDS) {
          const def = cellOf(kind)!;
          const ref = referenceCell(kind);
          const rng = new Rng(70 + threads);
          const p = noisyParams(ref, I, H, rng, 0.4);
          const x = Float64Array.from({ length: T * B * I }, () => rng.normal());
          const seeds = Array.from({ length: 4 }, () => Float64Array.from({ length: B * H }, () => rng.normal()));
          const s0 = Float64Array.from({ length: B * cellStateSize(ref, H) }, () => 0.5 * rng.normal());
          for (const init of [undefined, s0]) {
            const fwd = def.forward(p, x, shape, init);
            const many = def.backwardMany!(p, x, fwd, seeds, shape);
            const fr = ref.forward(p, x, shape, init);
            seeds.forEach((seed, q) => {
              const tag = `${kind} ${threads} threads${init ? ' from a state' : ''} pass ${q}`;
              const d = seededDhOut(seed, shape);
              assert.deepEqual(passOf(many, q, shape), def.backward(p, x, fwd, d, shape, { paramGrads: false }).dh, tag);
              float32Close(`${tag} vs reference`, passOf(many, q, shape), ref.backward(p, x, fr, d, shape).dh, 1e-4);
            });
            many.release?.();
            releaseForward(fwd);
          }
        }
      }
    } finally {
      setThreads(undefined);
    }
  });
}

for (const [engine, , skip] of engines) {
  test(`${engine}: a tiled backward refuses a stateRows that does not divide B, and dx`, { skip }, () => {
    const k: LayerKernels = engine === 'native' ? nativeKernels()! : wasmKernels;
    const n = 2 * 3 * 4;
    const bufs = {
      x: new Float32Array(2 * 3),
      U: new Float32Array(12),
      W: new Float32Array(32),
      bias: new Float32Array(12),
      biasR: null,
      wdiag: null,
      h: new Float32Array(n),
      states: [new Float32Array(n), new Float32Array(n), new Float32Array(n)],
      dhOut: new Float32Array(2 * n),
      dx: null,
      dU: null,
      dW: null,
      dbias: null,
      dbiasR: null,
      dwdiag: null,
      dh: new Float32Array(2 * n),
    };
    assert.throws(() => k.backward(1, 2, 6, 1, 4, { ...bufs, stateRows: 4 }), /stateRows must divide the batch B/);
    assert.throws(() => k.backward(1, 2, 6, 1, 4, { ...bufs, stateRows: 3, dx: new Float32Array(12) }), /dh only: dU and dx must be null/);
    k.backward(1, 2, 6, 1, 4, { ...bufs, stateRows: 3 });
  });
}
