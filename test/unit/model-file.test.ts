import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectedParamShapes, serializeModel, parseModel, saveModel, loadModel } from '../../core/model/model-file';
import { readSafetensors, writeSafetensors } from '../../core/model/safetensors';
import type { Architecture } from '../../core/model/architecture';
import type { Model, Tensor } from '../../core/model/model';
import { Rng } from '../../core/util/rng';

const ARCH: Architecture = {
  inputSize: 3,
  layers: [
    { cell: 'brc', units: 4 },
    { cell: 'nbrc', units: 5 },
    { cell: 'gru', units: 2 },
    { cell: 'lstm', units: 3 },
  ],
  readout: { units: 2, activation: 'softmax', perStep: false },
  task: { name: 'copy', T: 10, N: 5 },
};

/** Hand-written table (independent of the code under test) for ARCH. */
const ARCH_SHAPES: [string, number[]][] = [
  ['layers.0.U_c', [3, 4]],
  ['layers.0.U_a', [3, 4]],
  ['layers.0.U', [3, 4]],
  ['layers.0.w_c', [4]],
  ['layers.0.w_a', [4]],
  ['layers.0.b_c', [4]],
  ['layers.0.b_a', [4]],
  ['layers.1.U_c', [4, 5]],
  ['layers.1.U_a', [4, 5]],
  ['layers.1.U', [4, 5]],
  ['layers.1.W_c', [5, 5]],
  ['layers.1.W_a', [5, 5]],
  ['layers.1.b_c', [5]],
  ['layers.1.b_a', [5]],
  ['layers.2.kernel', [5, 6]],
  ['layers.2.recurrent_kernel', [2, 6]],
  ['layers.2.bias', [2, 6]],
  ['layers.3.kernel', [2, 12]],
  ['layers.3.recurrent_kernel', [3, 12]],
  ['layers.3.bias', [12]],
  ['readout.kernel', [3, 2]],
  ['readout.bias', [2]],
];

function makeModel(seed = 1): Model {
  const rng = new Rng(seed);
  const params = new Map<string, Tensor>();
  for (const [name, shape] of ARCH_SHAPES) {
    const n = shape.reduce((a, b) => a * b, 1);
    params.set(name, { shape: shape.slice(), data: Float64Array.from({ length: n }, () => rng.normal()) });
  }
  return { arch: structuredClone(ARCH), params };
}

/** Re-encodes a model's tensors with arbitrary metadata, bypassing serializeModel's checks. */
function rawModelFile(params: Map<string, Tensor>, metadata: Record<string, string>): Uint8Array {
  return writeSafetensors(params, metadata, 'F64');
}

const goodMeta = (): Record<string, string> => ({ format: 'rnn-memory-lens', version: '1', architecture: JSON.stringify(ARCH) });

test('expectedParamShapes matches the table for every cell kind and chains input sizes', () => {
  const got = expectedParamShapes(ARCH);
  assert.deepEqual([...got.entries()].sort(), ARCH_SHAPES.slice().sort());
  const single = expectedParamShapes({
    inputSize: 7,
    layers: [{ cell: 'lstm', units: 1 }],
    readout: { units: 9, activation: 'linear', perStep: true },
  });
  assert.deepEqual(Object.fromEntries(single), {
    'layers.0.kernel': [7, 4],
    'layers.0.recurrent_kernel': [1, 4],
    'layers.0.bias': [4],
    'readout.kernel': [1, 9],
    'readout.bias': [9],
  });
});

test('round trip F64 is exact and keeps the architecture', () => {
  const m = makeModel(2);
  const { model, warnings } = parseModel(serializeModel(m, { dtype: 'F64' }));
  assert.deepEqual(warnings, []);
  assert.deepEqual(model.arch, ARCH);
  assert.equal(model.params.size, ARCH_SHAPES.length);
  for (const [name, t] of m.params) {
    assert.deepEqual(model.params.get(name)!.shape, t.shape);
    assert.deepEqual(Array.from(model.params.get(name)!.data), Array.from(t.data), name);
  }
});

test('round trip F32 (the default) equals Math.fround of the weights', () => {
  const m = makeModel(3);
  const bytes = serializeModel(m);
  assert.equal(readSafetensors(bytes).tensors.get('readout.bias')!.dtype, 'F32');
  const { model } = parseModel(bytes);
  for (const [name, t] of m.params) {
    assert.deepEqual(Array.from(model.params.get(name)!.data), Array.from(t.data, Math.fround), name);
  }
});

test('metadata holds format, version, architecture JSON and extra keys', () => {
  const bytes = serializeModel(makeModel(), { extraMetadata: { trainedBy: 'test', epochs: '3' } });
  const { metadata } = readSafetensors(bytes);
  assert.equal(metadata.format, 'rnn-memory-lens');
  assert.equal(metadata.version, '1');
  assert.deepEqual(JSON.parse(metadata.architecture), ARCH);
  assert.equal(metadata.trainedBy, 'test');
  assert.equal(metadata.epochs, '3');
  assert.throws(() => serializeModel(makeModel(), { extraMetadata: { format: 'other' } }), /reserved key "format"/);
});

test('serializeModel refuses a model whose params do not fit its architecture', () => {
  const m = makeModel();
  m.params.delete('layers.1.W_a');
  assert.throws(() => serializeModel(m), /missing tensor "layers.1.W_a"/);
  const m2 = makeModel();
  m2.params.get('readout.bias')!.data = new Float64Array(5);
  assert.throws(() => serializeModel(m2), /"readout.bias" has 5 values for shape \[2\]/);
});

test('a safetensors file that is not ours (PyTorch-style state dict)', () => {
  const params = new Map([['fc.weight', { shape: [2, 2], data: new Float64Array(4) }]]);
  assert.throws(() => parseModel(rawModelFile(params, {})), /not an RNN Memory Lens model \(no format metadata\)/);
  assert.throws(() => parseModel(rawModelFile(params, { format: 'pt' })), /not an RNN Memory Lens model \(format is "pt"\)/);
});

test('wrong version, missing or bad architecture', () => {
  const p = makeModel().params;
  assert.throws(() => parseModel(rawModelFile(p, { ...goodMeta(), version: '2' })), /unsupported model file version "2"/);
  const noArch = goodMeta();
  delete noArch.architecture;
  assert.throws(() => parseModel(rawModelFile(p, noArch)), /no "architecture" metadata/);
  assert.throws(
    () => parseModel(rawModelFile(p, { ...goodMeta(), architecture: '{"inputSize":' })),
    /"architecture" metadata is not valid JSON/,
  );
  const badCell = JSON.stringify({ ...ARCH, layers: [{ cell: 'rnn', units: 4 }] });
  assert.throws(
    () => parseModel(rawModelFile(p, { ...goodMeta(), architecture: badCell })),
    /invalid architecture: layer 0 has unknown cell "rnn"/,
  );
});

test('missing tensor is named', () => {
  const p = makeModel().params;
  p.delete('layers.2.recurrent_kernel');
  assert.throws(() => parseModel(rawModelFile(p, goodMeta())), /missing tensor "layers.2.recurrent_kernel" \(expected shape \[2, 6\]\)/);
});

test('extra tensor is named', () => {
  const p = makeModel().params;
  p.set('layers.0.extra', { shape: [1], data: new Float64Array(1) });
  assert.throws(() => parseModel(rawModelFile(p, goodMeta())), /unexpected tensor "layers.0.extra"/);
});

test('shape mismatch names tensor, expected and found', () => {
  const p = makeModel().params;
  p.set('layers.3.kernel', { shape: [12, 2], data: new Float64Array(24) });
  assert.throws(
    () => parseModel(rawModelFile(p, goodMeta())),
    /shape mismatch for tensor "layers.3.kernel": expected \[2, 12\], found \[12, 2\]/,
  );
});

test('non-finite weights are a warning with tensor name and count, not an error', () => {
  const m = makeModel();
  m.params.get('layers.1.U')!.data.set([NaN, Infinity, -Infinity], 2);
  m.params.get('readout.bias')!.data[0] = NaN;
  const { model, warnings } = parseModel(serializeModel(m));
  assert.equal(warnings.length, 2);
  assert.match(
    warnings.find((w) => w.includes('layers.1.U'))!,
    /"layers.1.U" has 3 non-finite values/,
  );
  assert.match(
    warnings.find((w) => w.includes('readout.bias'))!,
    /"readout.bias" has 1 non-finite value\b/,
  );
  assert.ok(Number.isNaN(model.params.get('layers.1.U')!.data[2]));
  assert.equal(model.params.get('layers.1.U')!.data[3], Infinity);
});

test('underlying safetensors errors surface through parseModel', () => {
  const bytes = serializeModel(makeModel());
  assert.throws(() => parseModel(bytes.subarray(0, bytes.length - 3)), /truncated file/);
});

test('saveModel / loadModel: atomic write in the same folder, errors name the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rml-model-'));
  try {
    const path = join(dir, 'm.safetensors');
    const m = makeModel(4);
    saveModel(path, m, { dtype: 'F64' });
    assert.deepEqual(readdirSync(dir), ['m.safetensors'], 'no temp file left behind');
    const { model } = loadModel(path);
    assert.deepEqual(Array.from(model.params.get('layers.0.U')!.data), Array.from(m.params.get('layers.0.U')!.data));
    // overwrite an existing file
    saveModel(path, makeModel(5));
    assert.deepEqual(readdirSync(dir), ['m.safetensors']);
    assert.equal(readSafetensors(readFileSync(path)).tensors.get('readout.bias')!.dtype, 'F32');

    const missing = join(dir, 'nope.safetensors');
    assert.throws(
      () => loadModel(missing),
      (e: Error) => e.message.includes(missing),
    );
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'hello');
    assert.throws(
      () => loadModel(junk),
      (e: Error) => e.message.includes(junk) && /shorter than 8 bytes/.test(e.message),
    );
    const badDir = join(dir, 'no-such-dir', 'm.safetensors');
    assert.throws(
      () => saveModel(badDir, m),
      (e: Error) => e.message.includes(badDir),
    );
    assert.deepEqual(readdirSync(dir).sort(), ['junk.safetensors', 'm.safetensors']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fuzz: mutated model files parse or throw an Error', { timeout: 20_000 }, () => {
  const base = serializeModel(makeModel(6));
  const rng = new Rng(99);
  const deadline = Date.now() + 6000;
  let n = 0;
  for (; n < 300 && Date.now() < deadline; n++) {
    let b = Uint8Array.from(base);
    const nMut = 1 + rng.int(3);
    for (let m = 0; m < nMut; m++) {
      const kind = rng.int(3);
      if (kind === 0) b[rng.int(b.length)] ^= 1 << rng.int(8);
      else if (kind === 1) b = b.slice(0, rng.int(b.length + 1));
      else b[8 + rng.int(Math.max(1, b.length - 8))] = '{}[]":,0123456789'.charCodeAt(rng.int(17));
    }
    try {
      parseModel(b);
    } catch (e) {
      if (!(e instanceof Error)) throw new Error(`iteration ${n}: non-Error thrown: ${String(e)}`);
    }
  }
  assert.ok(n >= 100, `only ${n} iterations ran`);
});
