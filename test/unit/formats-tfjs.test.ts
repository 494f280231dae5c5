/** TF.js LayersModels: golden outputs from tfjs itself, our BRC/nBRC export read back, and manifest checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAnyModel } from '../../core/formats/detect';
import { exportTfjs, saveTfjs } from '../helpers/tfjs-export';
import { checkShardPath, openTfjsModel } from '../../core/formats/tfjs';
import { AnswerBook } from '../../core/formats/errors';
import { createModel, forward } from '../../core/model/network';
import type { Architecture } from '../../core/model/architecture';
import { Rng } from '../../core/util/rng';
import { checkGolden, readGolden } from '../helpers/golden';

const FIX = join(__dirname, '..', 'fixtures', 'formats');

test('tfjs-gru-simple (folder path): equals tfjs predict within 1e-5', async () => {
  const r = await openAnyModel(join(FIX, 'tfjs-gru-simple'), { remember: false });
  assert.equal(r.source, 'TensorFlow.js LayersModel');
  assert.deepEqual(r.model.arch.layers, [
    { cell: 'gru', units: 5, recurrentActivation: 'hard_sigmoid', resetAfter: false },
    { cell: 'simple_rnn', units: 4, activation: 'relu' },
  ]);
  checkGolden(r.model, readGolden(join(FIX, 'tfjs-gru-simple.golden.json')));
});

test('tfjs-lstm (two shards, per-step Dense): equals tfjs predict within 1e-5', async () => {
  const r = await openAnyModel(join(FIX, 'tfjs-lstm', 'model.json'), { remember: false });
  assert.deepEqual(r.model.arch.readout, { units: 3, activation: 'linear', perStep: true });
  checkGolden(r.model, readGolden(join(FIX, 'tfjs-lstm.golden.json')));
});

const exportable: Architecture[] = [
  {
    inputSize: 3,
    layers: [
      { cell: 'brc', units: 4 },
      { cell: 'nbrc', units: 5 },
    ],
    readout: { units: 2, activation: 'softmax', perStep: false },
    task: { name: 'copy', T: 50 },
  },
  { inputSize: 2, layers: [{ cell: 'nbrc', units: 3 }], readout: { units: 1, activation: 'linear', perStep: true } },
  {
    inputSize: 2,
    layers: [
      { cell: 'lstm', units: 3, recurrentActivation: 'hard_sigmoid' },
      { cell: 'gru', units: 2, resetAfter: false },
      { cell: 'simple_rnn', units: 2 },
    ],
    readout: { units: 1, activation: 'linear', perStep: false },
  },
];

test('our tfjs export of BRC/nBRC (and TF.js-compatible GRU/LSTM/SimpleRNN) reads back to the same outputs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnnml-tfjs-'));
  try {
    exportable.forEach((arch, n) => {
      const rng = new Rng(20 + n);
      const model = createModel(arch, rng);
      for (const t of model.params.values())
        for (let i = 0; i < t.data.length; i++) t.data[i] = Math.fround(t.data[i] + 0.3 * rng.normal());
      const sub = join(dir, `m${n}`);
      const path = saveTfjs(model, sub);
      const back = openTfjsModel(readFileSync(path, 'utf8'), (p: string) => readFileSync(join(sub, p)), new AnswerBook(), path);
      assert.deepEqual(back.model.arch, arch);
      for (const [name, t] of model.params) assert.deepEqual(Array.from(back.model.params.get(name)!.data), Array.from(t.data), name);
      const x = Float64Array.from({ length: 7 * 2 * arch.inputSize }, () => rng.normal());
      assert.deepEqual(forward(back.model, x, 7, 2).out, forward(model, x, 7, 2).out);
    });
    const json = exportTfjs(createModel(exportable[0], new Rng(1))).modelJson as {
      modelTopology: { config: { layers: { class_name: string; config: { cell?: { class_name: string } } }[] } };
      weightsManifest: { weights: { name: string }[] }[];
    };
    assert.deepEqual(
      json.modelTopology.config.layers.map((l) => l.config.cell?.class_name ?? l.class_name),
      ['BRC', 'NBRC', 'Dense'],
    );
    assert.deepEqual(
      json.weightsManifest[0].weights.slice(0, 7).map((w) => w.name),
      ['brc_0/kernelz', 'brc_0/kernelr', 'brc_0/kernelh', 'brc_0/memoryz', 'brc_0/memoryr', 'brc_0/br', 'brc_0/bz'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('export refuses what TF.js cannot compute', () => {
  const gru: Architecture = {
    inputSize: 2,
    layers: [{ cell: 'gru', units: 2 }],
    readout: { units: 1, activation: 'linear', perStep: false },
  };
  assert.throws(() => exportTfjs(createModel(gru, new Rng(1))), /reset_after = true/);
});

test('manifest checks: shard paths stay inside the folder, sizes must match, quantized weights are dequantized', async () => {
  for (const bad of ['../secret.bin', '/etc/passwd', 'a/../../b', 'http://x/y.bin', 'C:\\x.bin', ''])
    assert.throws(() => checkShardPath(bad), /plain relative path|short string/);
  assert.equal(checkShardPath('./group1-shard1of1.bin'), 'group1-shard1of1.bin');
  const topo = {
    class_name: 'Sequential',
    config: { layers: [{ class_name: 'SimpleRNN', config: { name: 's', units: 1, batch_input_shape: [null, null, 1] } }] },
  };
  const manifest = (weights: object[]) =>
    JSON.stringify({ format: 'layers-model', modelTopology: topo, weightsManifest: [{ paths: ['w.bin'], weights }] });
  const q = { dtype: 'uint8', min: -1, scale: 0.5 };
  const json = manifest([
    { name: 's/kernel', shape: [1, 1], dtype: 'float32', quantization: q },
    { name: 's/recurrent_kernel', shape: [1, 1], dtype: 'float32', quantization: q },
    { name: 's/bias', shape: [1], dtype: 'float32', quantization: q },
  ]);
  const r = openTfjsModel(json, () => new Uint8Array([4, 2, 0]), new AnswerBook(), 'x');
  assert.deepEqual(
    [...r.model.params].filter(([n]) => n.startsWith('layers')).map(([, t]) => t.data[0]),
    [1, 0, -1],
  );
  assert.throws(() => openTfjsModel(json, () => new Uint8Array([4, 2]), new AnswerBook(), 'x'), /hold 2 bytes but the manifest needs 3/);
  assert.throws(
    () => openTfjsModel(JSON.stringify({ format: 'graph-model' }), () => new Uint8Array(), new AnswerBook(), 'x'),
    /graph models/,
  );
  const dir = mkdtempSync(join(tmpdir(), 'rnnml-tfjs-'));
  try {
    writeFileSync(join(dir, 'model.json'), manifest([{ name: 's/kernel', shape: [1, 1], dtype: 'float32' }]).replace('w.bin', '../w.bin'));
    await assert.rejects(openAnyModel(join(dir, 'model.json'), { remember: false }), /plain relative path/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
