/**
 * Hostile Keras HDF5, TF.js and safetensors files and oversized task metadata: each is refused with one clear
 * line, within a time and memory bound, before the work it asks for, and nothing else happens (no output
 * written, no file outside the model's folder read). Also the diagnostics worker's heap limit and its message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diagnose } from '../../core/diagnostics/diagnose';
import {
  clampMemoryLimitMb,
  DEFAULT_MEMORY_LIMIT_MB,
  diagnoseBytes,
  LimitError,
  MAX_MEMORY_LIMIT_MB,
  MIN_MEMORY_LIMIT_MB,
} from '../../core/diagnostics/limits';
import { openModelBytes } from '../../core/formats/detect';
import { AnswerBook } from '../../core/formats/errors';
import { h5Child, isDataset, h5ReadTensor, MAX_H5_DATASET_VALUES, openH5 } from '../../core/formats/h5';
import { openTfjsModel } from '../../core/formats/tfjs';
import { MAX_TASK_T, type Architecture } from '../../core/model/architecture';
import { loadModel, serializeModel } from '../../core/model/model-file';
import { createModel } from '../../core/model/network';
import { writeSafetensors } from '../../core/model/safetensors';
import { Rng } from '../../core/util/rng';
import { DiagnosticsService } from '../../extension/diagnosis-workers';
import { h5Messages } from '../../scripts/fuzz-formats';
import { runCli } from '../helpers/cli';

const FIX = join(__dirname, '..', 'fixtures', 'formats');
const dir = mkdtempSync(join(tmpdir(), 'hostile-h5-tfjs-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs `f`, which must throw; checks that the message is one short line naming the problem (no stack trace, no
 * bare engine message) and that the time and the memory growth stayed small. Returns the message.
 */
function refused(f: () => unknown, pattern: RegExp, maxMs = 2000, maxMb = 100): string {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let msg: string | undefined;
  try {
    f();
  } catch (e) {
    msg = (e as Error).message;
  }
  const ms = performance.now() - t0;
  const grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.ok(msg !== undefined, 'expected a refusal');
  assertOneLine(msg);
  assert.match(msg, pattern);
  assert.ok(ms < maxMs, `took ${ms.toFixed(0)} ms: ${msg}`);
  assert.ok(grew < maxMb, `memory grew ${grew.toFixed(0)} MB: ${msg}`);
  return msg;
}

function assertOneLine(msg: string): void {
  assert.ok(!msg.includes('\n'), `more than one line: ${msg.slice(0, 300)}`);
  assert.ok(msg.length <= 400, `${msg.length} characters: ${msg.slice(0, 200)}…`);
  assert.doesNotMatch(
    msg,
    /\bat .*\(.*:\d+:\d+\)|Cannot read propert|is not a function|Invalid array length|Maximum call stack|undefined|NaN/,
  );
}

const answers = new AnswerBook();
const openBytes = (bytes: Uint8Array, path: string) => openModelBytes(bytes, path, answers);
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIX, name)));

// ---- 1. task parameters from a file's metadata, and the diagnosis's memory budget ----------------------------

const arch = (T: number): Architecture => ({
  inputSize: 1,
  layers: [
    { cell: 'brc', units: 100 },
    { cell: 'brc', units: 100 },
  ],
  readout: { units: 1, activation: 'linear', perStep: false },
  task: { name: 'copy', T, N: 0 },
});

/** Our model file with whatever architecture JSON (serializeModel would refuse an invalid one). */
function rawModelFile(architecture: unknown, params: Map<string, { shape: number[]; data: Float64Array }>): Uint8Array {
  return writeSafetensors(params, { format: 'rnn-memory-lens', version: '1', architecture: JSON.stringify(architecture) }, 'F32');
}

test('a small model file declaring task.T = 1e7 is refused when it is read, naming the limit', () => {
  const small: Architecture = { ...arch(10), layers: [{ cell: 'brc', units: 4 }] };
  const params = createModel(small, new Rng(1)).params;
  const file = join(dir, 'T1e7.safetensors');
  writeFileSync(file, rawModelFile({ ...small, task: { name: 'copy', T: 1e7, N: 0 } }, params));
  assert.ok(readFileSync(file).length < 2048, 'the attack file is under 2 KB');
  refused(() => loadModel(file), new RegExp(`"task\\.T" must be a positive integer up to ${MAX_TASK_T} \\(got 10000000\\)`));
  // The same file with T at the limit is a valid model file.
  writeFileSync(file, rawModelFile({ ...small, task: { name: 'copy', T: MAX_TASK_T, N: 0 } }, params));
  assert.equal(loadModel(file).model.arch.task?.T, MAX_TASK_T);
  refused(
    () => loadModel(writeTo('N.safetensors', rawModelFile({ ...small, task: { name: 'copy', T: 10, N: 11 } }, params))),
    /"task\.N" \(11\) exceeds "task\.T" \(10\)/,
  );
});

function writeTo(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

test('TF.js userDefinedMetadata task T is validated with the same limits', () => {
  const json = JSON.parse(readFileSync(join(FIX, 'tfjs-gru-simple', 'model.json'), 'utf8')) as Record<string, unknown>;
  const shard = fixture('tfjs-gru-simple/group1-shard1of1.bin');
  const withTask = (task: unknown) => JSON.stringify({ ...json, userDefinedMetadata: { rnnMemoryLens: { task } } });
  refused(
    () => openTfjsModel(withTask({ name: 'copy', T: 1e7 }), () => shard, new AnswerBook(), 'x'),
    /userDefinedMetadata\.rnnMemoryLens: "task\.T" must be a positive integer up to 100000/,
  );
  refused(
    () => openTfjsModel(withTask({ name: 'copy', T: 10, N: -1 }), () => shard, new AnswerBook(), 'x'),
    /"task\.N" must be a non-negative integer/,
  );
  assert.deepEqual(openTfjsModel(withTask({ name: 'copy', T: 40, N: 0 }), () => shard, new AnswerBook(), 'x').model.arch.task, {
    name: 'copy',
    T: 40,
    N: 0,
  });
});

test('a diagnosis whose memory estimate exceeds the budget is refused before computing; one under it runs', () => {
  const model = createModel(arch(MAX_TASK_T), new Rng(1));
  // Default batch 64: 100000 steps × (64 + 32 retention) sequences × 201 values a step, far over 4096 MB.
  assert.ok(diagnoseBytes(model.arch, MAX_TASK_T, 64) > DEFAULT_MEMORY_LIMIT_MB * 2 ** 20);
  const msg = refused(
    () => diagnose(model),
    /^model too large for the current limits: .*T = 100000 steps × batch 64 × 200 units.*flag --memory-limit-mb \/ setting rnnMemory\.diagnostics\.memoryLimitMb/,
    500,
    50,
  );
  assert.ok(msg.includes(`limit ${DEFAULT_MEMORY_LIMIT_MB} MB`));
  assert.throws(() => diagnose(model), LimitError);
  // A short sequence fits and runs; a budget below its estimate refuses even that.
  const r = diagnose(model, { T: 8, batch: 4, sections: ['bistability'] });
  assert.equal(r.input.T, 8);
  const needMb = diagnoseBytes(model.arch, 8, 4) / 2 ** 20;
  assert.throws(() => diagnose(model, { T: 8, batch: 4, memoryLimitMb: needMb * 0.99 }), /model too large for the current limits/);
  assert.equal(diagnose(model, { T: 8, batch: 4, memoryLimitMb: needMb * 1.01, sections: ['bistability'] }).input.B, 4);
});

test('CLI: diagnose of a model with a huge stored T prints one line, writes nothing, exits 1; --memory-limit-mb is checked', async () => {
  const model = createModel(arch(MAX_TASK_T), new Rng(2));
  const file = writeTo('bigT.safetensors', serializeModel(model));
  const out = join(dir, 'bigT-report.json');
  const res = await runCli(['diagnose', '--model', file, '--out', out]);
  assert.equal(res.code, 1);
  assert.equal(res.stdout, '');
  assert.equal(res.stderr.split('\n').filter(Boolean).length, 1, res.stderr);
  assert.match(res.stderr, /^rnn-memory: model too large for the current limits: .*--memory-limit-mb/);
  assertOneLine(res.stderr.trim());
  assert.equal(existsSync(out), false);
  const bad = await runCli(['diagnose', '--model', file, '--memory-limit-mb', '10']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--memory-limit-mb must be between 64 and/);
  const longT = await runCli(['diagnose', '--model', file, '--T', String(MAX_TASK_T + 1)]);
  assert.match(longT.stderr, /--T must be at most 100000/);
});

// ---- 2./3. HDF5 datasets and attributes ------------------------------------------------------------------------

test('a gzip-chunked 8192² dataset in a small .h5 is refused from its declared shape, before jsfive reads it', () => {
  const bytes = fixture('hostile-h5-chunked-gzip.h5');
  assert.ok(bytes.length < 64 * 1024);
  // The layer is GRU(5) on 3 inputs: its largest tensor has 5 × 15 values (an independent count from the config).
  const msg = refused(
    () => openBytes(bytes, 'g.h5'),
    /declares shape \[8192, 8192\], more than layer gru_2 \(GRU\) \(5 units, 3 inputs\) can use/,
  );
  assert.match(msg, /at most \d+ values/);
  const most = Number(/at most (\d+) values/.exec(msg)![1]);
  assert.ok(most >= 5 * 15 && most < 8192, `bound ${most}`);
  // Without a layer bound the global limit still refuses it (2^26 values > 2^24).
  const d = h5Child(openH5(bytes), 'model_weights/gru_2/sequential_2/gru_2/gru_cell/kernel');
  assert.ok(isDataset(d));
  refused(
    () => h5ReadTensor(d),
    new RegExp(`too large: shape \\[8192, 8192\\] declares ${8192 * 8192} values \\(limit ${MAX_H5_DATASET_VALUES}\\)`),
  );
});

test('a 2^40-row dataset is named as a too-large declared shape (not blamed on inputSize)', () => {
  const msg = refused(
    () => openBytes(fixture('hostile-h5-huge-dims.h5'), 'd.h5'),
    new RegExp(`declares shape \\[${2 ** 40}, 15\\]: a dimension above 2\\^31`),
  );
  assert.doesNotMatch(msg, /inputSize/);
});

test('a model_config in HDF5 dense attribute storage is named as such', () => {
  refused(
    () => openBytes(fixture('hostile-h5-dense-config.h5'), 'c.h5'),
    /model_config attribute is kept in HDF5 dense attribute storage .* not support/,
  );
});

test('an attribute whose dataspace declares 2^24 strings in a 32-byte message is refused before jsfive decodes them', () => {
  const bytes = fixture('keras3-legacy.h5');
  let refusals = 0;
  for (const m of h5Messages(bytes).filter((x) => x.type === 0x0c)) {
    // Attribute message v1: 8-byte header, then name, datatype and dataspace, each padded to 8 bytes.
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    if (bytes[m.offset] !== 1) continue;
    const pad8 = (n: number) => Math.ceil(n / 8) * 8;
    const space = m.offset + 8 + pad8(v.getUint16(m.offset + 2, true)) + pad8(v.getUint16(m.offset + 4, true));
    if (bytes[space + 1] === 0) continue; // a scalar: no dimension to grow
    const bad = new Uint8Array(bytes);
    new DataView(bad.buffer).setBigUint64(space + (bad[space] === 1 ? 8 : 4), 2n ** 24n, true);
    let msg: string | undefined;
    const t0 = performance.now();
    try {
      openBytes(bad, 'a.h5');
    } catch (e) {
      msg = (e as Error).message;
    }
    assert.ok(performance.now() - t0 < 1000);
    if (msg === undefined) continue; // an attribute the importer never reads (model_weights' layer_names)
    assertOneLine(msg);
    assert.match(msg, /an attribute of .* declares 16777216 values of \d+ bytes, more than its \d+-byte message holds/);
    refusals++;
  }
  assert.ok(refusals >= 3, `${refusals} refusals`);
});

test('a gzip-chunked kernel loads to the same model; a chunk index listing more chunks than the shape has is refused', () => {
  const plain = openBytes(fixture('keras3-legacy.h5'), 'a.h5').model;
  const bytes = fixture('keras3-legacy-chunked.h5');
  assert.deepEqual(openBytes(bytes, 'c.h5').model, plain);
  // The kernel [3, 15] in 1 × 5 chunks: 9 chunks, indexed by one B-tree leaf ("TREE", type 1, level 0).
  const leaves = [...Array(bytes.length - 8).keys()].filter(
    (i) => bytes[i] === 0x54 && bytes[i + 1] === 0x52 && bytes[i + 2] === 0x45 && bytes[i + 3] === 0x45 && bytes[i + 4] === 1,
  );
  assert.equal(leaves.length, 1);
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  assert.equal(v.getUint16(leaves[0] + 6, true), 9);
  for (const entries of [10, 65535]) {
    const bad = new Uint8Array(bytes);
    new DataView(bad.buffer).setUint16(leaves[0] + 6, entries, true);
    refused(
      () => openBytes(bad, 'c.h5'),
      /gru_cell\/kernel: its chunk index (lists more than the 9 chunks its shape has|runs past the end of the file)/,
    );
  }
  // An internal node whose children all point back to itself (jsfive would follow each of them).
  const loop = new Uint8Array(bytes);
  loop[leaves[0] + 5] = 1;
  const entry = 16 + 8 * 3;
  for (let i = 0; i < 9; i++) new DataView(loop.buffer).setBigUint64(leaves[0] + 24 + i * entry + entry - 8, BigInt(leaves[0]), true);
  refused(() => openBytes(loop, 'c.h5'), /its chunk index has more nodes than its 9 chunks need/);
});

test('the legitimate .h5 fixtures still load (the bounds fit real layers)', () => {
  for (const f of ['keras3-legacy.h5', 'keras2-paper.h5']) assert.ok(openBytes(fixture(f), f).model.params.size > 0, f);
});

// ---- 4. TF.js manifests and shard paths -------------------------------------------------------------------------

function tfjsFolder(name: string, edit: (json: { weightsManifest: { paths: string[] }[] }) => void): string {
  const d = join(dir, name);
  mkdirSync(d);
  const json = JSON.parse(readFileSync(join(FIX, 'tfjs-gru-simple', 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  edit(json);
  writeFileSync(join(d, 'model.json'), JSON.stringify(json));
  return d;
}

const openFolder = (d: string) => openBytes(new Uint8Array(readFileSync(join(d, 'model.json'))), join(d, 'model.json'));

test('one shard listed 1000 times is refused before any shard is read, in one short line', () => {
  const d = tfjsFolder('dup', (j) => (j.weightsManifest[0].paths = Array.from({ length: 1000 }, () => 'big.bin')));
  writeFileSync(join(d, 'big.bin'), new Uint8Array(1 << 20));
  refused(() => openFolder(d), /weightsManifest lists the shard "big\.bin" more than once/);
  // The same file under a second name (a hard link) is read at most once too.
  const d2 = tfjsFolder('hardlink', (j) => (j.weightsManifest[0].paths = ['a.bin', 'b.bin']));
  const shard = fixture('tfjs-gru-simple/group1-shard1of1.bin');
  writeFileSync(join(d2, 'a.bin'), shard.subarray(0, 8));
  linkSync(join(d2, 'a.bin'), join(d2, 'b.bin'));
  refused(() => openFolder(d2), /weight shard "b\.bin" is the same file as "a\.bin"/);
  // 100 000 paths: refused from the count, before any path is checked or read.
  const d4 = tfjsFolder('count', (j) => (j.weightsManifest[0].paths = Array.from({ length: 100_000 }, (_, i) => `s${i}.bin`)));
  refused(() => openFolder(d4), /weightsManifest\[0\] lists 100000 shards \(at most 4096 are read\)/);
  // Many distinct missing shards: the message stays one bounded line.
  const d3 = tfjsFolder(
    'many',
    (j) => (j.weightsManifest[0].paths = Array.from({ length: 4000 }, (_, i) => `${'x'.repeat(200)}-${i}.bin`)),
  );
  refused(() => openFolder(d3), /weight shard ".*…" cannot be opened \(ENOENT\)/);
});

test('a shard larger than the manifest needs is refused from its size (a sparse 1 GiB file is never read)', () => {
  const d = tfjsFolder('huge', (j) => (j.weightsManifest[0].paths = ['huge.bin']));
  writeFileSync(join(d, 'huge.bin'), '');
  truncateSync(join(d, 'huge.bin'), 2 ** 30);
  // The manifest's weights: 45 + 75 + 15 + 20 + 16 + 4 + 8 + 2 float32 values = 740 bytes (the fixture shard's size).
  refused(() => openFolder(d), /weight shard "huge\.bin" has 1073741824 bytes but the manifest needs only 740 more/, 2000, 50);
});

test('shards may not leave the model folder: symlinks out of it and "." / ".." segments are refused', () => {
  const outside = join(dir, 'outside.bin');
  writeFileSync(outside, fixture('tfjs-gru-simple/group1-shard1of1.bin'));
  const d = tfjsFolder('link', (j) => (j.weightsManifest[0].paths = ['w.bin']));
  symlinkSync(outside, join(d, 'w.bin'));
  refused(() => openFolder(d), /weight shard "w\.bin" resolves outside the model's folder/);
  // A symlink that stays inside the folder is fine.
  const d2 = tfjsFolder('inside', (j) => (j.weightsManifest[0].paths = ['w.bin']));
  writeFileSync(join(d2, 'real.bin'), fixture('tfjs-gru-simple/group1-shard1of1.bin'));
  symlinkSync(join(d2, 'real.bin'), join(d2, 'w.bin'));
  assert.equal(openFolder(d2).model.arch.layers.length, 2);
  for (const bad of ['./a/../w.bin', 'a/./w.bin', '/etc/passwd']) {
    const d3 = tfjsFolder(`bad${readdirSync(dir).length}`, (j) => (j.weightsManifest[0].paths = [bad]));
    refused(() => openFolder(d3), /must be a plain relative path inside the model folder/);
  }
});

// ---- 5. truncated safetensors header ----------------------------------------------------------------------------

test('a truncated safetensors header says so, with the declared and present sizes', () => {
  for (const f of ['torch-gru.safetensors', 'torch-lstm.safetensors']) {
    const b = fixture(f);
    const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
    for (const keep of [2, Math.floor(n / 2), n - 1]) {
      const cut = b.subarray(0, 8 + keep);
      refused(
        () => openBytes(cut, f),
        new RegExp(`^safetensors header is truncated: it declares ${n} bytes but the file has only ${keep} after the length field$`),
      );
    }
  }
  // Our own model file, cut inside its header, through the extension's path (openAnyModel via detect).
  const ours = serializeModel(createModel(arch(10), new Rng(3)));
  const n = Number(new DataView(ours.buffer).getBigUint64(0, true));
  refused(() => openBytes(ours.subarray(0, 100), 'ours.safetensors'), new RegExp(`declares ${n} bytes but the file has only 92`));
});

// ---- 6. the diagnostics worker's heap limit ----------------------------------------------------------------------

test('the diagnostics worker runs with resourceLimits from the setting, and dying of them gives the mapped message', async () => {
  const script = join(dir, 'alloc-worker.js');
  // Reports what it was given when asked to; otherwise allocates JS objects until the heap limit stops it.
  writeFileSync(
    script,
    `const { workerData, parentPort, resourceLimits } = require('node:worker_threads');
     if (workerData.modelPath.endsWith('report.txt')) parentPort.postMessage({ type: 'error', message: JSON.stringify({ limit: workerData.memoryLimitMb, resourceLimits }) });
     else { const keep = []; for (;;) keep.push(Array.from({ length: 1e5 }, (_, i) => ({ i }))); }`,
  );
  const report = writeTo('report.txt', new Uint8Array(1));
  const alloc = writeTo('alloc.txt', new Uint8Array(1));
  const svc = new DiagnosticsService(script, 4, () => 64);
  try {
    const seen = await svc.get({ modelPath: report }).then(
      () => assert.fail('expected the reporting worker to reply with an error message'),
      (e: Error) => JSON.parse(e.message) as { limit: number; resourceLimits: { maxOldGenerationSizeMb: number } },
    );
    assert.equal(seen.limit, 64);
    assert.equal(seen.resourceLimits.maxOldGenerationSizeMb, 64);
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    await assert.rejects(svc.get({ modelPath: alloc }), (e: Error) => {
      assert.equal(e.message, 'model too large for the current limits (setting rnnMemory.diagnostics.memoryLimitMb)');
      return true;
    });
    assert.ok(performance.now() - t0 < 30_000);
    assert.ok((process.memoryUsage().rss - rss0) / 2 ** 20 < 400, 'the host process stays small');
    // A request's own limit wins over the setting (and is clamped to the minimum).
    const own = await svc.get({ modelPath: report, memoryLimitMb: 1 }).then(
      () => assert.fail('expected an error message'),
      (e: Error) => JSON.parse(e.message) as { limit: number },
    );
    assert.equal(own.limit, 64);
  } finally {
    svc.dispose();
  }
});

test('package.json declares rnnMemory.diagnostics.memoryLimitMb with the code defaults; out-of-range values are clamped', () => {
  const props = (
    JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { default: number; minimum: number; maximum: number }> } };
    }
  ).contributes.configuration.properties;
  const p = props['rnnMemory.diagnostics.memoryLimitMb'];
  assert.deepEqual([p.default, p.minimum, p.maximum], [DEFAULT_MEMORY_LIMIT_MB, MIN_MEMORY_LIMIT_MB, MAX_MEMORY_LIMIT_MB]);
  assert.deepEqual([undefined, 'x', NaN, 1, 2048.4, 1e12].map(clampMemoryLimitMb), [
    DEFAULT_MEMORY_LIMIT_MB,
    DEFAULT_MEMORY_LIMIT_MB,
    DEFAULT_MEMORY_LIMIT_MB,
    MIN_MEMORY_LIMIT_MB,
    2048,
    MAX_MEMORY_LIMIT_MB,
  ]);
});
