/**
 * Forward passes without their trace (ForwardOptions.trace false: what the retention probes run): h and the
 * state after the last step equal a full pass's exactly on every engine, every cell, from the zero state and
 * from a given one, under 1–3 threads; the traces the caller gave up are absent rather than stale, and such
 * a pass refuses backward and backwardMany.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceCell } from '../../core/cells/index';
import { CELL_KINDS, cellStateSize, hOf, type CellDef, type CellKind } from '../../core/cells/types';
import { finalState } from '../../core/diagnostics/state';
import { fastCell, fastEngineStatus, nativeKernels, releaseForward } from '../../core/engine/fast';
import { wasmCell, wasmEngineStatus } from '../../core/engine/wasm';
import { setWasmThreads } from '../../core/engine/wasm-threads';
import { Rng } from '../../core/util/rng';
import { noisyParams } from '../helpers/params';

const engines: { name: string; cell: (k: CellKind) => CellDef | null; skip: string | false; threads: (n?: number) => void }[] = [
  { name: 'reference', cell: referenceCell, skip: false, threads: () => undefined },
  {
    name: 'native',
    cell: fastCell,
    skip: fastEngineStatus().available ? false : 'native addon not built',
    threads: (n) => nativeKernels()?.setThreads(n ?? 0),
  },
  {
    name: 'wasm',
    cell: wasmCell,
    skip: wasmEngineStatus().available ? false : 'wasm module not built',
    threads: (n) => setWasmThreads(n, 1),
  },
];

for (const e of engines) {
  test(`${e.name}: a forward without its trace gives the same h and final state, and no stale traces`, { skip: e.skip }, () => {
    const shape = { T: 7, B: 5, inputSize: 3, units: 17 };
    const { T, B, inputSize: I, units: H } = shape;
    try {
      for (const threads of [1, 2, 3]) {
        e.threads(threads);
        for (const kind of CELL_KINDS) {
          const def = e.cell(kind)!;
          const ref = referenceCell(kind);
          const S = cellStateSize(ref, H);
          const rng = new Rng(11 + threads);
          const p = noisyParams(ref, I, H, rng, 0.4);
          const x = Float64Array.from({ length: T * B * I }, () => rng.normal());
          const s0 = Float64Array.from({ length: B * S }, () => 0.5 * rng.normal());
          for (const init of [undefined, s0]) {
            const tag = `${e.name} ${kind} ${threads} threads${init ? ' from a state' : ''}`;
            const full = def.forward(p, x, shape, init);
            const bare = def.forward(p, x, shape, init, { trace: false });
            assert.deepEqual(Float64Array.from(hOf(bare)), Float64Array.from(hOf(full)), `${tag}: h`);
            assert.deepEqual(finalState(bare, T, B, H, S), finalState(full, T, B, H, S), `${tag}: final state`);
            if (e.name !== 'reference') {
              // Only LSTM's c (its "cell" gate, part of the final state) is kept.
              assert.deepEqual(Object.keys(bare.gates), kind === 'lstm' ? ['cell'] : [], `${tag}: kept gates`);
              const dhOut = new Float64Array(T * B * H).fill(1);
              assert.throws(() => def.backward(p, x, bare, dhOut, shape), /without its trace/, `${tag}: backward`);
              const seeds = [new Float64Array(B * H).fill(1), new Float64Array(B * H).fill(2)];
              assert.throws(() => def.backwardMany!(p, x, bare, seeds, shape), /without its trace/, `${tag}: backwardMany`);
              releaseForward(bare);
              releaseForward(full);
            }
          }
        }
      }
    } finally {
      e.threads(undefined);
    }
  });
}
