/**
 * Cell discovery of the PyTorch bridge on the model shapes users write: one cell (with its own nn.Linear
 * layers inside), stacked cells in a ModuleList, a cell returning (h, c), a cell returning gates; --cells;
 * and the ambiguous / none-found errors, which name the candidates; and the CLI's diagnose --torch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerCell } from '../../core/cells/index';
import { cellStateSize, hOf } from '../../core/cells/types';
import { finalState } from '../../core/diagnostics/state';
import type { DiagnosticReport } from '../../core/diagnostics/types';
import { forward } from '../../core/model/network';
import { openTorchModel, type TorchModelSpec } from '../../core/torch/bridge';
import { Rng } from '../../core/util/rng';
import { runCli } from '../helpers/cli';
import { float32Close } from '../helpers/float32-close';
import { skipWithoutPython, TORCH_FIXTURES, torchPython } from '../helpers/torch-python';

const skip = skipWithoutPython('torch-discovery.test.ts');
const python = torchPython.python ?? 'python3';
const MODELS = join(TORCH_FIXTURES, 'models.py');

function open(name: string, args: Record<string, unknown> = {}, more: Partial<TorchModelSpec> = {}) {
  return openTorchModel({ file: MODELS, name, args, python, inputSize: 1, readoutActivation: 'linear', ...more });
}

/** The user's own forward against the lens's replay of the discovered stack on a fresh batch. */
function assertReplay(tm: ReturnType<typeof open>, T: number, B: number): void {
  const rng = new Rng(5);
  const x = Float64Array.from({ length: T * B }, () => rng.normal());
  float32Close("replay vs the model's forward", forward(tm.model, x, T, B).out, tm.userForward(x, T, B));
}

test('one cell whose own nn.Linear layers also run once per step: the outer cell is the layer', { skip }, () => {
  const tm = open('gru_model', { n_hidden: 6 });
  try {
    assert.deepEqual(tm.layers, [{ name: 'cell', units: 6, stateSize: 6, gates: [] }]);
    assert.equal(tm.readoutName, 'head');
    assert.equal(tm.model.arch.readout.units, 1);
    assertReplay(tm, 9, 3);
  } finally {
    tm.close();
  }
});

test('stacked cells in a ModuleList returning gates, with a per-step readout', { skip }, () => {
  const tm = open('brc_stack', { n_layers: 3, n_hidden: 4, per_step: true, n_out: 2 });
  try {
    assert.deepEqual(
      tm.layers.map((l) => [l.name, l.units, l.gates]),
      [
        ['layers.0', 4, ['a', 'c']],
        ['layers.1', 4, ['a', 'c']],
        ['layers.2', 4, ['a', 'c']],
      ],
    );
    assert.equal(tm.model.arch.readout.perStep, true);
    assert.equal(tm.model.arch.readout.units, 2);
    assertReplay(tm, 7, 2);
  } finally {
    tm.close();
  }
});

test(
  "a forward without its trace (as retention runs it): the same h and last state, only the state's c kept, no backward",
  { skip },
  () => {
    const models: [string, Record<string, unknown>][] = [
      ['brc_stack', { cell: 'nbrc', n_hidden: 4, n_layers: 2 }],
      ['lstm_model', { n_hidden: 5 }],
    ];
    for (const [name, args] of models) {
      const tm = open(name, args);
      try {
        const T = 9;
        const B = 3;
        const rng = new Rng(4);
        const x = Float64Array.from({ length: T * B }, () => rng.normal());
        const init = tm.model.arch.layers.map((ly) => {
          const S = cellStateSize(layerCell(ly), ly.units);
          return Float64Array.from({ length: B * S }, () => 0.3 * rng.normal());
        });
        const full = forward(tm.model, x, T, B, undefined, init);
        const bare = forward(tm.model, x, T, B, undefined, init, { trace: false });
        assert.deepEqual(bare.out, full.out, `${name}: readout`);
        tm.model.arch.layers.forEach((ly, l) => {
          const def = layerCell(ly);
          const [f, b] = [full.layers[l], bare.layers[l]];
          const S = cellStateSize(def, ly.units);
          // h stays the float32 the helper sent; its float64 copy is the same values.
          assert.deepEqual(Float64Array.from(hOf(f.fwd)), f.fwd.h, `${name} layer ${l}: float32 view`);
          assert.deepEqual(b.fwd.h, f.fwd.h, `${name} layer ${l}: h`);
          assert.deepEqual(finalState(b.fwd, T, B, ly.units, S), finalState(f.fwd, T, B, ly.units, S), `${name} layer ${l}: last state`);
          assert.deepEqual(
            Object.keys(b.fwd.gates),
            tm.layers[l].gates.filter((g) => g === 'cell'),
            `${name} layer ${l}: kept gates`,
          );
          assert.throws(() => def.backward({}, b.x, b.fwd, new Float64Array(T * B * ly.units), b.shape), /without its trace/);
          assert.throws(() => def.backwardMany!({}, b.x, b.fwd, [new Float64Array(B * ly.units)], b.shape), /without its trace/);
        });
      } finally {
        tm.close();
      }
    }
  },
);

test('a cell returning (h, c): state [h, c], c shown as the gate "cell"; h matches a plain nn.LSTMCell loop', { skip }, () => {
  const tm = open('lstm_model', { n_hidden: 5 });
  try {
    assert.deepEqual(tm.layers, [{ name: 'rnn', units: 5, stateSize: 10, gates: ['cell'] }]);
    assertReplay(tm, 8, 2);
    // Independent: the same nn.LSTMCell stepped in Python.
    const x = [0.5, -1, 0.25, 2.5];
    const ref = JSON.parse(
      execFileSync(
        python,
        [
          '-B',
          '-c',
          `
import json, sys, torch
sys.path.insert(0, sys.argv[1])
import models
m = models.lstm_model(n_hidden=5)
state = None
hs, cs = [], []
with torch.no_grad():
    for v in ${JSON.stringify(x)}:
        state = m.rnn(torch.tensor([[v]], dtype=torch.float32), state)
        hs.append(state[0][0].tolist()); cs.append(state[1][0].tolist())
print(json.dumps({"h": hs, "c": cs}))
`,
          TORCH_FIXTURES,
        ],
        { encoding: 'utf8' },
      ),
    ) as { h: number[][]; c: number[][] };
    const fr = forward(tm.model, Float64Array.from(x), x.length, 1);
    float32Close('h', fr.layers[0].fwd.h, Float64Array.from(ref.h.flat()));
    float32Close('c', fr.layers[0].fwd.gates.cell, Float64Array.from(ref.c.flat()));
  } finally {
    tm.close();
  }
});

test('two cells that are not a stack: an error naming the candidates; --cells picks the memory', { skip }, () => {
  assert.throws(
    () => open('make', { kind: 'parallel' }),
    (e: Error) => {
      assert.equal(e.message.split('\n').length, 1);
      assert.match(
        e.message,
        /^ambiguous cells: left, right \(candidates: left, right\) do not form a stack \(right is not called with the h_t of left\); name the stack with --cells$/,
      );
      return true;
    },
  );
  const tm = open('make', { kind: 'parallel' }, { cells: ['left'] });
  try {
    assert.deepEqual(
      tm.layers.map((l) => l.name),
      ['left'],
    );
    assertReplay(tm, 6, 2);
  } finally {
    tm.close();
  }
});

test('--cells naming a module that is not a per-step cell, and a model without cells', { skip }, () => {
  assert.throws(() => open('gru_model', {}, { cells: ['nope'] }), {
    message: /^--cells: the model has no submodule nope \(submodules called once per step: cell, cell\.ih, cell\.hh\)$/,
  });
  assert.throws(() => open('gru_model', {}, { cells: ['head'] }), {
    message: /^--cells: head is not called once per time step with a \[B, H\] output \(1 calls for T=5\)$/,
  });
  assert.throws(() => open('make', { kind: 'whole' }), {
    message:
      /^no recurrent cell found: no submodule was called once per time step \(T=5\) with its previous output as input \(called once per step: none\); name the cells with --cells$/,
  });
});

test('rnn-memory diagnose --torch: a report (JSON and HTML) of the whole model, announced on stderr', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'torch-cli-'));
  try {
    const out = join(dir, 'r.json');
    const html = join(dir, 'r.html');
    const res = await runCli([
      'diagnose',
      '--torch',
      `${MODELS}:brc_stack`,
      '--torch-args',
      '{"n_hidden": 8}',
      '--python',
      python,
      '--task',
      'copy',
      '--T',
      '20',
      '--batch',
      '8',
      '--out',
      out,
      '--html',
      html,
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr.split('\n')[0], /^running .*models\.py:brc_stack in .* \(.*rnn_memory_bridge\.py, device cpu\)$/);
    const r = JSON.parse(readFileSync(out, 'utf8')) as DiagnosticReport;
    assert.equal(r.model.name, `${MODELS}:brc_stack`);
    // BRC layers 1→8 and 8→8 (U_c, U_a, U [in, H]; w_c, w_a, b_c, b_a [H]) and the Linear 8→1.
    const layer = (i: number) => 3 * i * 8 + 4 * 8;
    assert.equal(r.model.paramCount, layer(1) + layer(8) + 8 + 1);
    assert.deepEqual(
      r.bistability.layers.map((l) => [l.cell, l.method, l.T]),
      [
        ['custom', 'gain', 20],
        ['custom', 'gain', 20],
      ],
    );
    assert.equal(r.gradientFlow.layers.length, 2);
    for (const s of r.diagnosis) assert.ok(res.stderr.includes(s.text));
    assert.ok(readFileSync(html, 'utf8').startsWith('<!DOCTYPE html>'));
    assert.match(res.stderr, /diagnosed in .* \(PyTorch 2\.\d+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
