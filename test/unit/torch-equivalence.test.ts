/**
 * The PyTorch bridge against independent computations: BRC and nBRC written as PyTorch cells with the weights
 * of built-in models give the built-in engine's states, gates, gradient flow and bistability map; a GRU cell
 * written by hand matches nn.GRU; dL/dh_t through the bridge equals PyTorch's autograd and central finite
 * differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerCell } from '../../core/cells/index';
import { passOf, seededDhOut, type CellKind } from '../../core/cells/types';
import { diagnose } from '../../core/diagnostics/diagnose';
import { layerGradients } from '../../core/diagnostics/gradient-flow';
import type { Model } from '../../core/model/model';
import { referenceCell } from '../../core/cells/index';
import { computeLoss, forward, layerParams } from '../../core/model/network';
import { writeSafetensors } from '../../core/model/safetensors';
import { openTorchModel, type TorchModel } from '../../core/torch/bridge';
import { Rng } from '../../core/util/rng';
import { runCli } from '../helpers/cli';
import { makeModel } from '../helpers/diag-models';
import { float32Close } from '../helpers/float32-close';
import { skipWithoutPython, TORCH_FIXTURES, torchPython } from '../helpers/torch-python';

const skip = skipWithoutPython('torch-equivalence.test.ts');
const python = torchPython.python ?? 'python3';
const dir = mkdtempSync(join(tmpdir(), 'torch-eq-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const MODELS = join(TORCH_FIXTURES, 'models.py');

/** A built-in model with float32-exact weights, and its weights as the fixture Stack's state dict. */
function builtinAndWeights(cell: CellKind, H: number, seed: number): { model: Model; weights: string } {
  const model = makeModel(
    [
      { cell, units: H },
      { cell, units: H },
    ],
    { seed, task: { name: 'copy', T: 30 } },
  );
  const sd = new Map<string, { shape: number[]; data: Float64Array }>();
  for (const [name, t] of model.params) {
    t.data.set(t.data.map(Math.fround));
    if (name === 'readout.kernel') {
      const [rows, cols] = t.shape; // [H, k] -> nn.Linear weight [k, H]
      const w = new Float64Array(rows * cols);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) w[j * rows + i] = t.data[i * cols + j];
      sd.set('readout.weight', { shape: [cols, rows], data: w });
    } else sd.set(name === 'readout.bias' ? 'readout.bias' : name, t);
  }
  const weights = join(dir, `${cell}-${seed}.safetensors`);
  writeFileSync(weights, writeSafetensors(sd, {}, 'F32'));
  return { model, weights };
}

function openStack(cell: CellKind, H: number, weights: string, dtype = 'float32'): TorchModel {
  return openTorchModel({
    file: MODELS,
    name: 'brc_stack',
    args: { cell, n_hidden: H, n_layers: 2, dtype },
    weights,
    python,
    inputSize: 1,
    readoutActivation: 'linear',
    task: { name: 'copy', T: 30 },
  });
}

for (const cell of ['brc', 'nbrc'] as const) {
  test(`${cell} as a PyTorch cell: same h, gates, gradient flow and bistability map as the built-in engine`, { skip }, () => {
    const H = 6;
    const { model, weights } = builtinAndWeights(cell, H, cell === 'brc' ? 3 : 5);
    // float32 (PyTorch's default): the traces and the vector-Jacobian products within float32 tolerance.
    const t32 = openStack(cell, H, weights);
    try {
      assert.deepEqual(
        t32.layers.map((l) => [l.name, l.units, l.gates.join(',')]),
        [
          ['layers.0', H, 'a,c'],
          ['layers.1', H, 'a,c'],
        ],
      );
      const x = Float64Array.from({ length: 30 * 12 }, (_, i) => Math.sin(i * 0.37));
      const fw = forward(model, x, 30, 12, referenceCell);
      const fg = forward(t32.model, x, 30, 12);
      const rng = new Rng(2);
      for (let l = 0; l < 2; l++) {
        float32Close(`layer ${l} h`, fg.layers[l].fwd.h, fw.layers[l].fwd.h);
        for (const g of ['a', 'c']) float32Close(`layer ${l} gate ${g}`, fg.layers[l].fwd.gates[g], fw.layers[l].fwd.gates[g]);
        const dhOut = Float64Array.from({ length: 30 * 12 * H }, (_, i) => (i >= 29 * 12 * H ? rng.normal() : 0));
        const tr = fw.layers[l];
        const want = layerCell(model.arch.layers[l]).backward(layerParams(model, l), tr.x, tr.fwd, dhOut, tr.shape);
        const got = layerCell(t32.model.arch.layers[l]).backward({}, fg.layers[l].x, fg.layers[l].fwd, dhOut, tr.shape);
        float32Close(`layer ${l} vᵀ∂h_T/∂h_t`, got.dh, want.dh, 1e-3);
        float32Close(`layer ${l} vᵀ∂h_T/∂x_t`, got.dx, want.dx, 1e-3);
      }
      float32Close('readout', fg.out, fw.out);
    } finally {
      t32.close();
    }
    // float64: the report's sections as the built-in engine computes them (the float32 products they are
    // built from are compared above).
    const t64 = openStack(cell, H, weights, 'float64');
    try {
      const opts = {
        task: 'copy' as const,
        T: 30,
        batch: 12,
        seed: 4,
        sections: ['bistability', 'gradientFlow'] as ('bistability' | 'gradientFlow')[],
      };
      const want = diagnose(model, opts);
      const got = diagnose(t64.model, opts);
      for (let l = 0; l < 2; l++) {
        const gw = want.gradientFlow.layers[l];
        const gg = got.gradientFlow.layers[l];
        float32Close(`layer ${l} ‖∂L/∂h_t‖`, Float64Array.from(gg.norm), Float64Array.from(gw.norm), 1e-6);
        float32Close(`layer ${l} ‖∂h_T/∂h_t‖`, Float64Array.from(gg.jacobianNorm), Float64Array.from(gw.jacobianNorm), 2e-2);
        const bw = want.bistability.layers[l];
        const bg = got.bistability.layers[l];
        assert.equal(bg.method, 'gain');
        float32Close(`layer ${l} a`, Float64Array.from(bg.a.flat()), Float64Array.from(bw.a.flat()), 1e-6);
        // u from the cell at h = 0 (atanh of h / (1 − c)) against x U of the built-in.
        float32Close(`layer ${l} drive u`, Float64Array.from(bg.drive!.flat()), Float64Array.from(bw.drive!.flat()), 1e-6);
        assert.deepEqual(bg.bistable, bw.bistable, `layer ${l} bistability map`);
        assert.deepEqual(bg.fixedPoints, bw.fixedPoints, `layer ${l} fixed-point counts`);
        float32Close(`layer ${l} fraction bistable`, Float64Array.from(bg.fractionBistable), Float64Array.from(bw.fractionBistable), 1e-9);
      }
      assert.deepEqual(
        got.diagnosis.map((s) => s.text),
        want.diagnosis.map((s) => s.text),
      );
    } finally {
      t64.close();
    }
  });
}

test('a GRU written as a PyTorch cell (its own nn.Linear layers) matches nn.GRU', { skip }, async () => {
  const pt = join(dir, 'gru.pt');
  const script = `
import json, sys, torch
torch.manual_seed(11)
gru = torch.nn.GRU(1, 6, batch_first=True)
head = torch.nn.Linear(6, 1)
x = torch.randn(3, 7, 1)
with torch.no_grad():
    h = gru(x)[0]
sd = {"cell.ih.weight": gru.weight_ih_l0, "cell.ih.bias": gru.bias_ih_l0, "cell.hh.weight": gru.weight_hh_l0,
      "cell.hh.bias": gru.bias_hh_l0, "head.weight": head.weight, "head.bias": head.bias}
torch.save({k: v.detach().clone() for k, v in sd.items()}, sys.argv[1])
print(json.dumps({"x": x.tolist(), "h": h.tolist()}))
`;
  const ref = JSON.parse(execFileSync(python, ['-B', '-c', script, pt], { encoding: 'utf8' })) as { x: number[][][]; h: number[][][] };
  const input = join(dir, 'gru-in.json');
  writeFileSync(input, JSON.stringify({ x: ref.x }));
  const out = join(dir, 'gru-trace.json');
  const res = await runCli([
    'trace',
    '--torch',
    `${MODELS}:gru_model`,
    '--weights',
    pt,
    '--python',
    python,
    '--input',
    input,
    '--out',
    out,
  ]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /running .*models\.py:gru_model with weights .*gru\.pt in /);
  const trace = JSON.parse(readFileSync(out, 'utf8')) as { layers: { cell: string; h: number[][][] }[] };
  assert.equal(trace.layers.length, 1);
  float32Close('h vs nn.GRU', Float64Array.from(trace.layers[0].h.flat(2)), Float64Array.from(ref.h.flat(2)));
});

test('dL/dh_t through the bridge equals PyTorch autograd and central finite differences (float64 model)', { skip }, () => {
  const H = 3;
  const T = 6;
  const B = 2;
  const tm = openTorchModel({
    file: MODELS,
    name: 'brc_stack',
    args: { cell: 'nbrc', n_hidden: H, n_layers: 2, dtype: 'float64' },
    python,
    inputSize: 1,
    readoutActivation: 'linear',
  });
  try {
    const rng = new Rng(9);
    const x = Float64Array.from({ length: T * B }, () => rng.normal());
    const y = Float64Array.from({ length: B }, () => rng.normal());
    const fr = forward(tm.model, x, T, B);
    const { loss, dOut } = computeLoss(tm.model.arch, fr.out, { y });
    const dhs = layerGradients(tm.model, fr, dOut, referenceCell);
    // Autograd in the user's model itself: hooks keep every cell's h_t and their gradients.
    const script = `
import json, sys, torch
sys.path.insert(0, sys.argv[1])
import models
m = models.brc_stack(cell="nbrc", n_hidden=${H}, n_layers=2, dtype="float64")
x = torch.tensor(json.loads(sys.argv[2]), dtype=torch.float64).reshape(${T}, ${B}, 1).transpose(0, 1)
y = torch.tensor(json.loads(sys.argv[3]), dtype=torch.float64).reshape(${B}, 1)
hs = {0: [], 1: []}
def keep(i):
    def hook(mod, args, out):
        out[0].retain_grad()
        hs[i].append(out[0])
    return hook
for i, c in enumerate(m.layers):
    c.register_forward_hook(keep(i))
loss = ((m(x) - y) ** 2).mean()
loss.backward()
print(json.dumps({"loss": loss.item(), "dh": [[h.grad.tolist() for h in hs[i]] for i in (0, 1)]}))
`;
    const ref = JSON.parse(
      execFileSync(python, ['-B', '-c', script, TORCH_FIXTURES, JSON.stringify([...x]), JSON.stringify([...y])], { encoding: 'utf8' }),
    ) as { loss: number; dh: number[][][][] };
    assert.ok(Math.abs(ref.loss - loss) < 1e-12 * Math.max(1, loss), `loss ${loss} vs autograd ${ref.loss}`);
    for (let l = 0; l < 2; l++)
      float32Close(`layer ${l} dL/dh vs autograd`, Float64Array.from(dhs[l]), Float64Array.from(ref.dh[l].flat(2)), 1e-10);

    // Central differences: perturb one unit of h_t of layer l, rerun layer l from step t + 1 and the layers
    // above from step t (they read h_t at step t).
    const lossFrom = (l: number, t: number, b: number, j: number, eps: number): number => {
      const at = (i: number, s: number) =>
        s < 0 ? new Float64Array(B * H) : Float64Array.from(fr.layers[i].fwd.h.subarray(s * B * H, (s + 1) * B * H));
      const run = (i: number, input: Float64Array, steps: number, state: Float64Array) =>
        layerCell(tm.model.arch.layers[i]).forward(
          layerParams(tm.model, i),
          input,
          { T: steps, B, inputSize: i === 0 ? 1 : H, units: H },
          state,
        ).h;
      const ht = at(l, t);
      ht[b * H + j] += eps;
      const lower = l === 0 ? x.subarray((t + 1) * B, T * B) : fr.layers[l - 1].fwd.h.subarray((t + 1) * B * H, T * B * H);
      let seq: Float64Array = new Float64Array((T - t) * B * H); // layer l's h_t … h_{T-1}
      seq.set(ht);
      if (t < T - 1) seq.set(run(l, Float64Array.from(lower), T - 1 - t, ht), B * H);
      for (let i = l + 1; i < 2; i++) seq = run(i, seq, T - t, at(i, t - 1));
      const hT = seq.subarray((T - 1 - t) * B * H);
      const W = tm.model.params.get('readout.kernel')!.data;
      const bias = tm.model.params.get('readout.bias')!.data[0];
      let s = 0;
      for (let bb = 0; bb < B; bb++) {
        let o = bias;
        for (let u = 0; u < H; u++) o += hT[bb * H + u] * W[u];
        s += (o - y[bb]) ** 2;
      }
      return s / B;
    };
    const eps = 1e-6;
    for (const [l, t, b, j] of [
      [0, 1, 0, 2],
      [0, 3, 1, 0],
      [1, 0, 1, 1],
      [1, 4, 0, 2],
    ]) {
      const fd = (lossFrom(l, t, b, j, eps) - lossFrom(l, t, b, j, -eps)) / (2 * eps);
      const got = dhs[l][(t * B + b) * H + j];
      assert.ok(
        Math.abs(fd - got) <= 1e-6 * Math.max(1, Math.abs(fd)),
        `layer ${l} t=${t} b=${b} j=${j}: bridge ${got}, finite differences ${fd}`,
      );
    }
  } finally {
    tm.close();
  }
});

test('gates sent on request (kept or recomputed by the helper), batched VJPs and arrays sent through files', { skip }, () => {
  const H = 5;
  const { model, weights } = builtinAndWeights('nbrc', H, 8);
  // A gate store of 0 MB keeps only the newest forward's gates: layer 0's must be recomputed from its inputs.
  process.env.RNN_MEMORY_GATE_STORE_MB = '0';
  let tm: TorchModel;
  try {
    tm = openStack('nbrc', H, weights, 'float64');
  } finally {
    delete process.env.RNN_MEMORY_GATE_STORE_MB;
  }
  try {
    // Arrays of 64 KiB and more travel through the helper's files, unlinked once it has opened them.
    const shm = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    assert.deepEqual(
      readdirSync(shm).filter((f) => f.startsWith('rnn-memory-bridge-')),
      [],
    );
    const T = 200;
    const B = 64;
    assert.ok(T * B * H * 8 >= 1 << 16);
    const rng = new Rng(11);
    const x = Float64Array.from({ length: T * B }, () => rng.normal());
    const fw = forward(model, x, T, B, referenceCell);
    const fg = forward(tm.model, x, T, B);
    for (let l = 0; l < 2; l++)
      for (const g of ['a', 'c']) float32Close(`layer ${l} gate ${g}`, fg.layers[l].fwd.gates[g], fw.layers[l].fwd.gates[g], 1e-9);
    for (let l = 0; l < 2; l++) {
      const def = layerCell(tm.model.arch.layers[l]);
      const tr = fg.layers[l];
      const seeds = [0, 1, 2].map(() => Float64Array.from({ length: B * H }, () => rng.normal()));
      const many = def.backwardMany!({}, tr.x, tr.fwd, seeds, tr.shape);
      assert.equal(many.passes, 3);
      seeds.forEach((seed, q) =>
        float32Close(
          `layer ${l} probe ${q} dh`,
          passOf(many, q, tr.shape),
          def.backward({}, tr.x, tr.fwd, seededDhOut(seed, tr.shape), tr.shape).dh,
          1e-12,
        ),
      );
    }
  } finally {
    tm.close();
  }
});
