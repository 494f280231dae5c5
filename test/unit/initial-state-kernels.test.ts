/**
 * Both float32 kernel engines run a layer from a given initial state (h0, and c0 for LSTM) as the reference
 * cell does: h and every gate, then dx, dh and every parameter gradient of that pass (the state at t = 0 enters
 * the recurrent products and, for BRC, the diagonal weights), on odd sizes, batch splits over 1–3 threads,
 * and backwardMany over the tiled pass. The fixed-point search steps the fast engine from given states.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceCell } from '../../core/cells/index';
import { CELL_KINDS, cellStateSize, passOf, seededDhOut, type CellDef, type CellKind, type SeqShape } from '../../core/cells/types';
import { fastCell, fastEngineStatus, nativeKernels } from '../../core/engine/fast';
import { wasmCell, wasmEngineStatus } from '../../core/engine/wasm';
import { setWasmThreads, splitCount } from '../../core/engine/wasm-threads';
import { Rng } from '../../core/util/rng';
import { float32Close } from '../helpers/float32-close';
import { noisyParams } from '../helpers/params';

const engines: { name: string; cell: (k: CellKind) => CellDef | null; skip: string | false }[] = [
  {
    name: 'native',
    cell: fastCell,
    skip: fastEngineStatus().available ? false : `native engine unavailable: ${fastEngineStatus().reason}`,
  },
  { name: 'wasm', cell: wasmCell, skip: wasmEngineStatus().available ? false : `wasm engine unavailable: ${wasmEngineStatus().reason}` },
];

function randn(n: number, rng: Rng, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => scale * rng.normal());
}

function compareFromState(engine: CellDef, kind: CellKind, shape: SeqShape, seed: number, tag: string): void {
  const rng = new Rng(seed);
  const ref = referenceCell(kind);
  const { T, B, inputSize: I, units: H } = shape;
  const p = noisyParams(ref, I, H, rng, 0.4);
  const x = randn(T * B * I, rng);
  const S = cellStateSize(ref, H);
  // States far from zero (|h| up to ~0.9; LSTM c up to ~2), so a kernel that ignored them would be caught.
  const init = Float64Array.from({ length: B * S }, (_, i) => (i % S < H ? 0.9 : 2) * Math.tanh(1.5 * rng.normal()));
  const dhOut = randn(T * B * H, rng);
  const label = `${tag} ${kind} T=${T} B=${B} in=${I} H=${H}`;
  const fr = ref.forward(p, x, shape, init);
  const ff = engine.forward(p, x, shape, init);
  float32Close(`${label} h`, ff.h, fr.h);
  for (const g of ref.gateNames) float32Close(`${label} gate ${g}`, ff.gates[g], fr.gates[g]);
  // Against the zero start, h at t = 0 must differ: the state was read.
  const fz = ref.forward(p, x, shape);
  let moved = 0;
  for (let i = 0; i < B * H; i++) moved = Math.max(moved, Math.abs(fz.h[i] - ff.h[i]));
  assert.ok(moved > 1e-3, `${label}: h_0 equals the zero-state run's (the initial state was ignored)`);
  const br = ref.backward(p, x, fr, dhOut, shape);
  const bf = engine.backward(p, x, ff, dhOut, shape);
  float32Close(`${label} dx`, bf.dx, br.dx);
  float32Close(`${label} dh`, bf.dh, br.dh);
  for (const name of Object.keys(br.grads)) float32Close(`${label} d${name}`, bf.grads[name], br.grads[name]);
  // backwardMany tiles the pass (and its initial state) along the batch.
  const seeds = [randn(B * H, rng), randn(B * H, rng)];
  const many = engine.backwardMany!(p, x, ff, seeds, shape);
  seeds.forEach((seed, q) =>
    float32Close(
      `${label} backwardMany[${q}]`,
      passOf(many, q, shape),
      ref.backward(p, x, fr, seededDhOut(seed, shape), shape, { paramGrads: false }).dh,
    ),
  );
  many.release?.();
}

const SHAPES: SeqShape[] = [
  { T: 1, B: 1, inputSize: 1, units: 1 },
  { T: 4, B: 3, inputSize: 1, units: 3 },
  { T: 5, B: 5, inputSize: 3, units: 17 },
  { T: 3, B: 2, inputSize: 1, units: 129 },
  { T: 2, B: 4, inputSize: 100, units: 100 },
];

for (const e of engines) {
  for (const kind of CELL_KINDS) {
    test(
      `${e.name} ${kind} runs from a given initial state like the reference (forward, gradients, backwardMany)`,
      { skip: e.skip },
      () => {
        SHAPES.forEach((s, i) => compareFromState(e.cell(kind)!, kind, s, 300 + i, e.name));
      },
    );
  }
}

test('initial states under batch splits: native threads 1–3, wasm ranges 1–3', { skip: engines[0].skip || engines[1].skip }, () => {
  const k = nativeKernels()!;
  const shape = { T: 6, B: 7, inputSize: 2, units: 19 };
  try {
    for (const threads of [1, 2, 3]) {
      k.setThreads(threads);
      setWasmThreads(threads, 1);
      assert.equal(splitCount(shape.T, shape.B, shape.units), threads);
      for (const kind of CELL_KINDS) {
        compareFromState(fastCell(kind)!, kind, shape, 40 + threads, `native/${threads}t`);
        compareFromState(wasmCell(kind)!, kind, shape, 40 + threads, `wasm/${threads} ranges`);
      }
    }
  } finally {
    k.setThreads(0);
    setWasmThreads(undefined);
  }
});

test('an initial state of the wrong size is refused with its expected size', { skip: engines[0].skip }, () => {
  const shape = { T: 2, B: 3, inputSize: 1, units: 4 };
  const ref = referenceCell('lstm');
  const p = noisyParams(ref, 1, 4, new Rng(1), 0.4);
  assert.throws(
    () => fastCell('lstm')!.forward(p, new Float64Array(6), shape, new Float64Array(12)),
    /initialState has 12 values, expected B\*stateSize = 3\*8/,
  );
});
