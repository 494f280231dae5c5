/**
 * backwardMany of the float32 engines (native and wasm): k backward passes of one forward pass run as one kernel
 * call over k·B rows (native reads the forward's rows in place, row r from state row r mod B; wasm tiles them). Each pass's dh must equal that pass's own backward on the
 * same engine (bit for bit: rows never interact) and the reference engine's dh to float32 tolerance, for every
 * cell and odd sizes; a released forward refuses.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceCell } from '../../core/cells/index';
import { CELL_KINDS, passOf, seededDhOut, type CellDef, type CellKind, type SeqShape } from '../../core/cells/types';
import { fastCell, fastEngineStatus, nativeKernels, releaseForward } from '../../core/engine/fast';
import { wasmCell, wasmEngineStatus } from '../../core/engine/wasm';
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

test(
  'native: in-place probe rows under 1–3 threads (ranges that cross a probe block) and a refused misuse',
  { skip: engines[0][2] },
  () => {
    const k = nativeKernels()!;
    const shape = { T: 6, B: 5, inputSize: 2, units: 19 };
    const { T, B, inputSize: I, units: H } = shape;
    try {
      for (const threads of [1, 2, 3]) {
        k.setThreads(threads);
        for (const kind of CELL_KINDS) {
          const def = fastCell(kind)!;
          const rng = new Rng(70 + threads);
          const p = noisyParams(referenceCell(kind), I, H, rng, 0.4);
          const x = Float64Array.from({ length: T * B * I }, () => rng.normal());
          const seeds = Array.from({ length: 4 }, () => Float64Array.from({ length: B * H }, () => rng.normal()));
          const fwd = def.forward(p, x, shape);
          const many = def.backwardMany!(p, x, fwd, seeds, shape);
          seeds.forEach((seed, q) =>
            assert.deepEqual(
              passOf(many, q, shape),
              def.backward(p, x, fwd, seededDhOut(seed, shape), shape, { paramGrads: false }).dh,
              `${kind} ${threads} threads pass ${q}`,
            ),
          );
          many.release?.();
        }
      }
    } finally {
      k.setThreads(0);
    }
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
  },
);
