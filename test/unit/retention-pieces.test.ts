/**
 * The retention section runs long sequences as consecutive pieces, each from the state the previous piece
 * ended in (finalState → forward's initialStates). Pieces must give exactly the whole-sequence forward on
 * every engine and cell, stacked layers included, and the same retention report whatever the piece length
 * (pieces that cut between probe times and delays, a per-step readout too).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CELL_KINDS, cellStateSize } from '../../core/cells/types';
import { layerCell } from '../../core/cells/index';
import { analyzeRetention } from '../../core/diagnostics/retention';
import { finalState } from '../../core/diagnostics/state';
import { cellResolver, releaseForward, resolveEngine, type EngineName } from '../../core/engine/index';
import { fastEngineStatus } from '../../core/engine/fast';
import { wasmEngineStatus } from '../../core/engine/wasm';
import { createModel, forward } from '../../core/model/network';
import { Rng } from '../../core/util/rng';

const ENGINES: [EngineName, string | false][] = [
  ['reference', false],
  ['native', fastEngineStatus().available ? false : 'native addon not built'],
  ['wasm', wasmEngineStatus().available ? false : 'wasm module not built'],
];

function model(cells: readonly string[], perStep: boolean, seed: number) {
  return createModel(
    {
      inputSize: 1,
      layers: cells.map((cell, i) => ({ cell: cell as (typeof CELL_KINDS)[number], units: [5, 17, 3][i] })),
      readout: { units: 1, activation: 'linear', perStep },
      task: { name: 'copy', T: 20 },
    },
    new Rng(seed),
  );
}

for (const [engine, skip] of ENGINES) {
  test(`${engine}: a forward in pieces from the carried state equals the whole forward, every cell, stacked`, { skip }, () => {
    const cells = cellResolver(resolveEngine(engine));
    const T = 23;
    const B = 3;
    for (const kind of CELL_KINDS) {
      const m = model([kind, kind === 'lstm' ? 'gru' : 'lstm', kind], false, 3);
      const rng = new Rng(9);
      const x = Float64Array.from({ length: T * B }, () => rng.normal());
      const whole = forward(m, x, T, B, cells);
      const wholeH = whole.layers.map((l) => Float64Array.from(l.fwd.h));
      const sizes = m.arch.layers.map((ly) => cellStateSize(layerCell(ly, cells), ly.units));
      let states: Float64Array[] | undefined;
      for (const [t0, t1] of [
        [0, 1],
        [1, 8],
        [8, 23],
      ]) {
        const fr = forward(m, x.subarray(t0 * B, t1 * B), t1 - t0, B, cells, states);
        fr.layers.forEach((l, i) => {
          const H = l.shape.units;
          assert.deepEqual(l.fwd.h, wholeH[i].subarray(t0 * B * H, t1 * B * H), `${kind} layer ${i} steps ${t0}–${t1}`);
        });
        states = fr.layers.map((l, i) => finalState(l.fwd, t1 - t0, B, l.shape.units, sizes[i]));
        releaseForward(fr);
      }
      releaseForward(whole);
    }
  });

  test(`${engine}: the retention report does not depend on where sequences are cut into pieces`, { skip }, () => {
    const cells = cellResolver(resolveEngine(engine));
    for (const [layers, perStep] of [
      [['nbrc', 'lstm'], false],
      [['gru'], true],
    ] as const) {
      const m = model(layers, perStep, 5);
      const opts = { cells, T: 20, batch: 16, probeTrain: 12, delays: 6, probeTimes: 9, resamples: 20 };
      const whole = analyzeRetention(m, { ...opts, pieceRows: 1e9 });
      // 64-sequence chunks of 12 and 16 rows: pieces of 7 and 5 steps, cutting between probe times and delays.
      const cut = analyzeRetention(m, { ...opts, pieceRows: 84 });
      assert.ok(whole && cut);
      assert.deepEqual(cut, whole, `${layers.join('+')} perStep ${perStep}`);
      assert.ok(whole.mse.every(Number.isFinite));
    }
  });
}
