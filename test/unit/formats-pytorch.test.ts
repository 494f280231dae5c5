/** PyTorch state dicts (safetensors) and torch.save checkpoints: golden outputs from PyTorch, and refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAnyModel, NeedsAnswers } from '../../core/formats/detect';
import { importStateDict } from '../../core/formats/pytorch-safetensors';
import { AnswerBook, FormatError } from '../../core/formats/errors';
import { unpickle, PickleError, PyDict, PySet, PyTuple } from '../../core/formats/pickle';
import { checkGolden, readGolden } from '../helpers/golden';

const FIX = join(__dirname, '..', 'fixtures', 'formats');
const fx = (n: string) => join(FIX, n);

const cases: [file: string, golden: string, arch: string][] = [
  ['torch-gru.safetensors', 'torch-gru', 'gru,gru'],
  ['torch-gru.pt', 'torch-gru', 'gru,gru'],
  ['torch-lstm.safetensors', 'torch-lstm', 'lstm'],
  ['torch-lstm-checkpoint.pt', 'torch-lstm', 'lstm'],
  ['torch-rnn-relu.safetensors', 'torch-rnn-relu', 'simple_rnn'],
  ['torch-brc-port.safetensors', 'torch-brc-port', 'nbrc,brc'],
  ['torch-brc-port.pt', 'torch-brc-port', 'nbrc,brc'],
  ['torch-kklemon.safetensors', 'torch-kklemon', 'brc,nbrc,gru'],
];

for (const [file, goldenName, cells] of cases) {
  test(`${file}: our forward pass equals PyTorch's within 1e-5`, async () => {
    const g = readGolden(fx(`${goldenName}.golden.json`));
    const { model, source } = await openAnyModel(fx(file), { answers: g.answers, remember: false });
    assert.equal(model.arch.layers.map((l) => l.cell).join(','), cells);
    assert.match(source, file.endsWith('.pt') ? /PyTorch checkpoint/ : /PyTorch state dict/);
    checkGolden(model, g, 1e-5);
  });
}

test('questions: a Linear readout needs its activation and step mode, asked in one NeedsAnswers', async () => {
  await assert.rejects(openAnyModel(fx('torch-gru.safetensors'), { remember: false }), (e: unknown) => {
    assert.ok(e instanceof NeedsAnswers);
    assert.deepEqual(e.questions.map((q) => q.key).sort(), ['readout.activation', 'readout.perStep']);
    assert.ok(e.questions.every((q) => q.choices.length >= 2 && q.suggested));
    assert.match(e.message, /readout\.activation = linear \| softmax/);
    assert.match(e.message, /--answer readout\.activation=linear,readout\.perStep=last/);
    return true;
  });
  await assert.rejects(openAnyModel(fx('torch-rnn-relu.safetensors'), { remember: false }), (e: unknown) => {
    assert.ok(e instanceof NeedsAnswers);
    assert.deepEqual(
      e.questions.map((q) => q.key),
      ['encoder.nonlinearity'],
    );
    return true;
  });
  await assert.rejects(
    openAnyModel(fx('torch-gru.safetensors'), { answers: { 'readout.activation': 'sigmoid', 'readout.perStep': 'last' }, remember: false }),
    /not one of linear, softmax/,
  );
});

test('answers are remembered in <file>.rnnmemory.json when asked (remember: true), and reused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnnml-fmt-'));
  try {
    const f = join(dir, 'm.safetensors');
    copyFileSync(fx('torch-gru.safetensors'), f);
    const g = readGolden(fx('torch-gru.golden.json'));
    await openAnyModel(f, { answers: g.answers });
    assert.ok(!existsSync(`${f}.rnnmemory.json`), 'nothing is written next to the model unless asked');
    await openAnyModel(f, { answers: g.answers, remember: true });
    const side = JSON.parse(readFileSync(`${f}.rnnmemory.json`, 'utf8'));
    assert.deepEqual(side.answers, g.answers);
    const again = await openAnyModel(f);
    checkGolden(again.model, g);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a .pt whose pickle would call os.system is refused by name and nothing runs', async () => {
  const marker = '/tmp/rnn-memory-lens-pwned-marker';
  const before = existsSync(marker);
  await assert.rejects(openAnyModel(fx('hostile-reduce.pt'), { remember: false }), /refused global posix\.system/);
  assert.equal(existsSync(marker), before);
});

test('kklemon BRC with a non-zero candidate bias is refused with an explanation', async () => {
  const g = readGolden(fx('torch-kklemon.golden.json'));
  await assert.rejects(
    openAnyModel(fx('torch-kklemon-candidate-bias.safetensors'), { answers: g.answers, remember: false }),
    /candidate.*max \|b\| = 0\.500/,
  );
});

test('state dict names: prefixes, _reverse, unknown tensors and several Linear layers', () => {
  const T = (shape: number[]) => ({ shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)) });
  const gru = (p: string) =>
    new Map([
      [`${p}weight_ih_l0`, T([6, 3])],
      [`${p}weight_hh_l0`, T([6, 2])],
      [`${p}bias_ih_l0`, T([6])],
      [`${p}bias_hh_l0`, T([6])],
    ]);
  const ok = importStateDict(gru('model.backbone.rnn.'), new AnswerBook(), 's');
  assert.equal(ok.model.arch.layers[0].cell, 'gru');
  assert.equal(ok.model.arch.readout.units, 2); // identity readout
  assert.equal(ok.model.arch.readout.assumed, true, 'the stand-in readout is marked as assumed');
  assert.match(ok.warnings.join(), /identity readout/);
  const rev = gru('rnn.');
  rev.set('rnn.weight_ih_l0_reverse', T([6, 3]));
  assert.throws(() => importStateDict(rev, new AnswerBook(), 's'), /bidirectional/);
  const extra = gru('rnn.');
  extra.set('bn.running_mean', T([2]));
  assert.throws(() => importStateDict(extra, new AnswerBook(), 's'), /unrecognised tensor "bn\.running_mean"/);
  const withReadout = gru('rnn.');
  withReadout.set('fc.weight', T([5, 2]));
  withReadout.set('fc.bias', T([5]));
  const ro = importStateDict(withReadout, new AnswerBook({ 'readout.activation': 'linear', 'readout.perStep': 'last' }), 's').model.arch
    .readout;
  assert.equal(ro.units, 5);
  assert.equal(ro.assumed, undefined, 'a readout from the file is not marked assumed');
  const two = gru('rnn.');
  two.set('fc1.weight', T([2, 2]));
  two.set('fc2.weight', T([2, 2]));
  assert.throws(() => importStateDict(two, new AnswerBook(), 's'), /several Linear-like/);
  const lstm4 = new Map([
    ['weight_ih', T([8, 3])],
    ['weight_hh', T([8, 2])],
  ]); // LSTMCell, no biases
  assert.equal(importStateDict(lstm4, new AnswerBook(), 's').model.arch.layers[0].cell, 'lstm');
  const bad = new Map([
    ['weight_ih_l0', T([5, 3])],
    ['weight_hh_l0', T([5, 2])],
  ]);
  assert.throws(() => importStateDict(bad, new AnswerBook(), 's'), FormatError);
});

test('unpickler: plain values, memo, and refusal of every global outside the allow-list', () => {
  const dumps = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
  // Python: pickle.dumps([1, -2, 'é', 3.5, None, True, (b'\x00',), {'k': 70000}], protocol=2)
  const v = unpickle(
    dumps(
      '80025d7100284b014afeffffff5802000000c3a9710147400c0000000000004e88635f636f646563730a656e636f64650a7102580100000000710358060000006c6174696e3171048671055271068571077d710858010000006b71094a7011010073652e',
    ),
  );
  assert.ok(Array.isArray(v));
  assert.deepEqual(v.slice(0, 6), [1, -2, 'é', 3.5, null, true]);
  assert.deepEqual((v[6] as PyTuple).items, [new Uint8Array([0])]);
  assert.equal((v[7] as PyDict).map.get('k'), 70000);
  // l = []; l.append(l): a self-referencing list through the memo
  const cyc = unpickle(dumps('80025d71006800612e')) as unknown[];
  assert.equal(cyc[0], cyc);
  // protocol 4 with FRAME, MEMOIZE, sets and frozensets
  const p4 = unpickle(dumps('80049518000000000000007d94288c016194284b0191948c0162948f94284b0290752e')) as PyDict;
  assert.deepEqual((p4.map.get('a') as PySet).items, [1]);
  assert.deepEqual((p4.map.get('b') as PySet).items, [2]);
  for (const [mod, name] of [
    ['posix', 'system'],
    ['builtins', 'eval'],
    ['subprocess', 'Popen'],
    ['__main__', 'Net'],
    ['torch.nn.modules.linear', 'Linear'],
  ]) {
    const g = Buffer.concat([Buffer.from([0x80, 0x02, 0x63]), Buffer.from(`${mod}\n${name}\n`), Buffer.from([0x29, 0x52, 0x2e])]);
    assert.throws(
      () => unpickle(new Uint8Array(g)),
      (e: unknown) => e instanceof PickleError && e.message.includes(`refused global ${mod}.${name}`),
    );
  }
  assert.throws(() => unpickle(dumps('80025d71002e').subarray(0, 4)), /truncated/);
  assert.throws(() => unpickle(dumps('8002ff2e')), /opcode 0xff/);
});
