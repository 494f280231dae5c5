/** Keras 3 .keras and legacy HDF5 .h5 files: golden outputs from Keras (or numpy for the Keras 2 layout), and refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAnyModel } from '../../core/formats/detect';
import { convertKerasModel } from '../../core/formats/keras-topology';
import { AnswerBook, NeedsAnswers } from '../../core/formats/errors';
import { checkGolden, readGolden } from '../helpers/golden';

const FIX = join(__dirname, '..', 'fixtures', 'formats');
const fx = (n: string) => join(FIX, n);

const cases: [file: string, arch: string, source: RegExp][] = [
  ['keras-gru-lstm.keras', 'gru,lstm:hard_sigmoid_keras3', /Keras 3\.\d+\.\d+ model \(\.keras\)/],
  ['keras-paper.keras', 'brc,nbrc', /\.keras/],
  ['keras-functional.keras', 'gru:reset_before', /\.keras/],
  ['keras3-legacy.h5', 'gru:hard_sigmoid_keras3:reset_before,simple_rnn:relu', /legacy HDF5/],
  ['keras2-paper.h5', 'brc,nbrc,lstm:hard_sigmoid', /Keras 2\.4\.0 model \(legacy HDF5\)/],
];

const describeArch = (layers: { cell: string; recurrentActivation?: string; resetAfter?: boolean; activation?: string }[]) =>
  layers
    .map((l) =>
      [l.cell, l.recurrentActivation, l.resetAfter === false ? 'reset_before' : undefined, l.activation].filter(Boolean).join(':'),
    )
    .join(',');

for (const [file, arch, source] of cases) {
  test(`${file}: our forward pass equals the reference within 1e-5`, async () => {
    const g = readGolden(fx(file.replace(/\.(keras|h5)$/, '.golden.json')));
    const r = await openAnyModel(fx(file), { remember: false });
    assert.equal(describeArch(r.model.arch.layers), arch);
    assert.match(r.source, source);
    assert.deepEqual(r.warnings, []);
    checkGolden(r.model, g, 1e-5);
  });
}

test('readout details: TimeDistributed + Activation(softmax) become a per-step softmax readout', async () => {
  const { model } = await openAnyModel(fx('keras-functional.keras'), { remember: false });
  assert.deepEqual(model.arch.readout, { units: 3, activation: 'softmax', perStep: true });
  const legacy = await openAnyModel(fx('keras3-legacy.h5'), { remember: false });
  assert.deepEqual(legacy.model.arch.readout, { units: 2, activation: 'linear', perStep: true });
});

// Topology checks on hand-written configs (weights only need the right shapes).
const W = (shape: number[]) => ({ name: '', tensor: { shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(0.1) } });
const gruWeights = [W([3, 12]), W([4, 12]), W([2, 12])];
const src = (map: Record<string, ReturnType<typeof W>[]>) => ({ layerWeights: (n: string) => map[n] ?? [] });
const seq = (...layers: object[]) => ({ class_name: 'Sequential', config: { layers } });
const gru = (cfg: object = {}) => ({ class_name: 'GRU', config: { name: 'gru', units: 4, ...cfg } });
const convert = (
  model: object,
  weights: Record<string, ReturnType<typeof W>[]>,
  hard: 'ask' | 'hard_sigmoid' = 'hard_sigmoid',
  answers = {},
) => convertKerasModel(model, src(weights), { hardSigmoid: hard, resetAfterDefault: false, label: 't' }, new AnswerBook(answers), 's');

test('keras topology: unsupported structures are refused with clear messages', () => {
  const ok = { gru: gruWeights, dense: [W([4, 1]), W([1])] };
  assert.equal(
    convert(seq(gru({ reset_after: true }), { class_name: 'Dense', config: { name: 'dense', units: 1 } }), ok).model.arch.layers[0].cell,
    'gru',
  );
  assert.throws(() => convert(seq(gru({ reset_after: true, go_backwards: true })), ok), /go_backwards/);
  assert.throws(() => convert(seq({ class_name: 'Bidirectional', config: { name: 'b' } }), ok), /bidirectional/);
  assert.throws(() => convert(seq(gru({ reset_after: true, activation: 'relu' })), ok), /activation "relu" is not supported/);
  assert.throws(() => convert(seq(gru({ reset_after: true, recurrent_activation: 'tanh' })), ok), /recurrent_activation "tanh"/);
  assert.throws(() => convert(seq(gru({ reset_after: true }), gru({ reset_after: true })), ok), /returns only its last state/);
  assert.throws(() => convert(seq({ class_name: 'Embedding', config: { name: 'e' } }, gru()), ok), /Embedding.*unsupported layer type/);
  assert.throws(() => convert(seq(gru({ reset_after: true })), { gru: gruWeights.slice(0, 1) }), /found 1 weight tensors, expected 3/);
  assert.throws(() => convert(seq(gru({ reset_after: false })), ok), /bias: expected shape \[12\]/);
  assert.throws(
    () =>
      convert(seq({ class_name: 'RNN', config: { name: 'gru', cell: { class_name: 'MyCell', config: {} } } }), {
        gru: Array(7).fill(W([3, 4])),
      }),
    /MyCell.*unsupported cell/,
  );
  const sigmoidDense = convert(
    seq(gru({ reset_after: true }), { class_name: 'Dense', config: { name: 'dense', units: 1, activation: 'sigmoid' } }),
    ok,
  );
  assert.match(sigmoidDense.warnings.join(), /activation "sigmoid" is not modelled/);
});

test('keras topology: hard_sigmoid of an unknown Keras version becomes a question', () => {
  const m = seq(gru({ reset_after: true, recurrent_activation: 'hard_sigmoid' }));
  assert.throws(
    () => convert(m, { gru: gruWeights }, 'ask'),
    (e: unknown) => e instanceof NeedsAnswers && e.questions[0].key === 'keras.hard_sigmoid',
  );
  const k3 = convert(m, { gru: gruWeights }, 'ask', { 'keras.hard_sigmoid': 'keras3' });
  assert.equal(k3.model.arch.layers[0].recurrentActivation, 'hard_sigmoid_keras3');
});

test('functional models must be chains', () => {
  const fn = {
    class_name: 'Functional',
    config: {
      layers: [
        { class_name: 'InputLayer', name: 'in', config: { name: 'in', batch_shape: [null, 5, 3] }, inbound_nodes: [] },
        { class_name: 'GRU', name: 'gru', config: { name: 'gru', units: 4, reset_after: true }, inbound_nodes: [[['in', 0, 0, {}]]] },
        {
          class_name: 'Add',
          name: 'add',
          config: { name: 'add' },
          inbound_nodes: [
            [
              ['gru', 0, 0, {}],
              ['in', 0, 0, {}],
            ],
          ],
        },
      ],
    },
  };
  assert.throws(() => convert(fn, { gru: gruWeights }), /does not simply follow gru/);
});

test('a weights-only HDF5 file is explained', async () => {
  // keras2-paper.h5 with its model_config attribute renamed: build by patching the attribute name bytes.
  const bytes = readFileSync(fx('keras2-paper.h5'));
  const i = bytes.indexOf(Buffer.from('model_config'));
  assert.ok(i > 0);
  const patched = Buffer.from(bytes);
  patched.write('model_confiX', i);
  const { openModelBytes } = await import('../../core/formats/detect');
  assert.throws(() => openModelBytes(new Uint8Array(patched), 'x.h5', new AnswerBook()), /weights only/);
});

test('imported models with cell options survive our own model file round trip', async () => {
  const { serializeModel, parseModel } = await import('../../core/model/model-file');
  const { model } = await openAnyModel(fx('keras3-legacy.h5'), { remember: false });
  const back = parseModel(serializeModel(model, { dtype: 'F64' })).model;
  assert.deepEqual(back.arch, model.arch);
  checkGolden(back, readGolden(fx('keras3-legacy.golden.json')));
});
