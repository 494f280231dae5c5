/**
 * Hostile model files and faults (issue 11): a model file cannot make the tool run code it did not pin and
 * confine, answers are never written through a link or next to a model unasked, an existing run is not
 * overwritten, and oversized or malformed inputs fail with one clear line before any work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearCustomCells, registerCustomCell } from '../../core/cells/custom-registry';
import { loadCellDef, loadModelWithCustomCells } from '../../core/custom/resolve';
import { validateArchitecture } from '../../core/model/architecture';
import { saveModel } from '../../core/model/model-file';
import { createModel } from '../../core/model/network';
import { RUN_FILES, runTraining, writeFailedStatus } from '../../core/train/run';
import { DiagnosticsService } from '../../extension/diagnosis-workers';
import { AnswerStore, ANSWERS_KEY } from '../../extension/answer-store';
import { Rng } from '../../core/util/rng';
import { main } from '../../core/cli/main';

const root = join(__dirname, '..', '..');
const leakyTs = join(root, 'examples', 'cells', 'leaky-tanh.ts');
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
const ZEROS = '0'.repeat(64);
const FORMATS = join(root, 'test', 'fixtures', 'formats');
const TORCH_ANSWERS = 'readout.activation=linear,readout.perStep=last';
/** torch-gru.pt is nn.GRU(3, 5, num_layers=2) + Linear(5, 2): inputs of 3 features. */
const torchInput = {
  x: [
    [
      [0.1, -0.2, 0.3],
      [0.5, 0.1, -0.4],
    ],
  ],
};

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'hostile-'));
}

/** A cell file that, if it is ever evaluated, leaves `marker` behind. */
function payload(path: string, marker: string): string {
  const text = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\nmodule.exports = { name: 'x', params: () => [], step: () => ({}) };\n`;
  writeFileSync(path, text);
  return sha256(text);
}

/** A model file whose one custom layer records {source, sha256}; its tensors are shaped like the leaky cell's. */
function modelRecording(path: string, source: string, sha: string): void {
  clearCustomCells();
  registerCustomCell(sha, loadCellDef(leakyTs));
  const arch = validateArchitecture({
    inputSize: 1,
    layers: [{ cell: 'custom', units: 3, custom: { name: 'x', source, sha256: sha } }],
    readout: { units: 1, activation: 'linear' },
  });
  saveModel(path, createModel(arch, new Rng(1)));
  clearCustomCells();
}

/**
 * The CLI in-process, capturing stderr only: the test runner reports through stdout, so hijacking it would
 * swallow other tests' results (commands here write their results to files).
 */
async function runCli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const err = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await main(args), stderr };
  } finally {
    process.stderr.write = err;
  }
}

/** The error lines of a command that also prints progress ("resuming in …"). */
const errorLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('rnn-memory:'))
    .join('\n');

function oneLine(s: string): string {
  const lines = s.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got: ${s}`);
  return lines[0];
}

test('a recorded cell with the wrong hash, an absolute path, "..", or a symlink out of the folder never runs', async () => {
  const d = tempDir();
  try {
    const models = join(d, 'models');
    const outside = join(d, 'outside');
    mkdirSync(models);
    mkdirSync(outside);
    const marker = join(d, 'MARKER');
    const input = join(d, 'in.json');
    writeFileSync(input, JSON.stringify({ x: [[[0.5], [1]]] }));
    const inFolderSha = payload(join(models, 'payload.js'), marker);
    const outSha = payload(join(outside, 'x.js'), marker);
    symlinkSync(join(outside, 'x.js'), join(models, 'link.js'));
    symlinkSync(outside, join(models, 'sub'));
    const cases: [string, string, string, RegExp][] = [
      ['bad-hash', 'payload.js', ZEROS, /payload\.js has changed since this model was saved/],
      ['absolute', join(outside, 'x.js'), outSha, /refused source .*\(an absolute path\)/],
      ['dotdot', '../outside/x.js', outSha, /refused source "\.\.\/outside\/x\.js" \(it leads out of the folder with "\.\."\)/],
      ['backslash-dotdot', '..\\outside\\x.js', outSha, /it leads out of the folder/],
      ['symlink', 'link.js', outSha, /refused source "link\.js" \(a symbolic link to outside the folder\)/],
      ['symlinked-dir', 'sub/x.js', outSha, /a symbolic link to outside the folder/],
    ];
    assert.notEqual(inFolderSha, ZEROS);
    for (const [name, source, sha, re] of cases) {
      const model = join(models, `${name}.safetensors`);
      modelRecording(model, source, sha);
      assert.throws(() => loadModelWithCustomCells(model, { allowCustomCells: true }), re, name);
      for (const cmd of [
        ['trace', '--input', input, '--out', join(d, 'trace.json')],
        ['diagnose', '--T', '3', '--batch', '2', '--quiet', '--out', join(d, 'report.json')],
      ]) {
        const r = await runCli([cmd[0], '--model', model, ...cmd.slice(1)]);
        assert.equal(r.code, 1, `${name} ${cmd[0]}: ${r.stderr}`);
        assert.match(oneLine(r.stderr), re);
      }
      assert.ok(!existsSync(marker), `${name}: the payload ran`);
    }
  } finally {
    clearCustomCells();
    rmSync(d, { recursive: true, force: true });
  }
});

test('train --resume of a run whose cell was swapped for a payload refuses before running it; a good cell in the folder loads', async () => {
  const d = tempDir();
  try {
    const run = join(d, 'run');
    const cell = join(d, 'leaky.ts');
    copyFileSync(leakyTs, cell);
    const def = loadCellDef(cell);
    const quiet = { isCancelled: () => false, emit: () => undefined, allowCustomCells: true };
    runTraining({
      ...quiet,
      outDir: run,
      config: {
        task: 'copy',
        T: 3,
        cell: 'custom',
        custom: { name: def.custom.name, source: cell, sha256: def.custom.sha256 },
        layers: 1,
        units: 3,
        batch: 4,
        steps: 2,
        evalEvery: 2,
        testSize: 4,
        checkpointEvery: 2,
      },
    });
    // The run holds its own copy, so the model loads from inside its folder.
    clearCustomCells();
    assert.ok(existsSync(join(run, 'leaky.ts')));
    assert.equal(
      loadModelWithCustomCells(join(run, RUN_FILES.model), { allowCustomCells: true }).model.arch.layers[0].custom?.name,
      'leaky-tanh',
    );
    clearCustomCells();
    const marker = join(d, 'MARKER');
    payload(join(run, 'leaky.ts'), marker);
    const r = await runCli(['train', '--resume', run, '--steps', '4']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(oneLine(errorLines(r.stderr)), /leaky\.ts has changed since this model was saved/);
    assert.ok(!existsSync(marker), 'the payload ran');
  } finally {
    clearCustomCells();
    rmSync(d, { recursive: true, force: true });
  }
});

test('a symlinked answers sidecar is neither read nor written through; warnings do not quote it', async () => {
  const d = tempDir();
  try {
    const model = join(d, 'm.pt');
    copyFileSync(join(FORMATS, 'torch-gru.pt'), model);
    const input = join(d, 'in.json');
    writeFileSync(input, JSON.stringify(torchInput));
    const victim = join(d, 'victim.txt');
    const precious = 'precious: the content of some other file\n';
    writeFileSync(victim, precious);
    const side = `${model}.rnnmemory.json`;
    symlinkSync(victim, side);
    const r = await runCli([
      'trace',
      '--model',
      model,
      '--input',
      input,
      '--out',
      join(d, 'out.json'),
      '--answer',
      TORCH_ANSWERS,
      '--remember-answers',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(victim, 'utf8'), precious, 'the link target was overwritten');
    assert.ok(lstatSync(side).isSymbolicLink(), 'the link itself was replaced');
    assert.match(r.stderr, /ignoring .*m\.pt\.rnnmemory\.json: it is a symbolic link/);
    assert.match(r.stderr, /refusing to write .*m\.pt\.rnnmemory\.json: it is a symbolic link/);
    assert.doesNotMatch(r.stderr, /precious/);

    // A link to a valid sidecar is not read either: without --answer the questions are asked again.
    const elsewhere = join(d, 'elsewhere.json');
    writeFileSync(elsewhere, JSON.stringify({ version: 1, answers: { 'readout.activation': 'linear', 'readout.perStep': 'last' } }));
    rmSync(side);
    symlinkSync(elsewhere, side);
    const asked = await runCli(['trace', '--model', model, '--input', input, '--out', join(d, 'out2.json')]);
    assert.equal(asked.code, 1);
    assert.match(asked.stderr, /readout\.activation/);
    assert.ok(!existsSync(join(d, 'out2.json')));

    // A regular sidecar that is not JSON: ignored with a warning that does not repeat its text.
    rmSync(side);
    writeFileSync(side, 'SECRET-TOKEN-1234 not json');
    const junk = await runCli(['trace', '--model', model, '--input', input, '--out', join(d, 'out3.json'), '--answer', TORCH_ANSWERS]);
    assert.equal(junk.code, 0, junk.stderr);
    assert.match(junk.stderr, /ignoring .*rnnmemory\.json: not valid JSON/);
    assert.doesNotMatch(junk.stderr, /SECRET/);
    assert.equal(readFileSync(side, 'utf8'), 'SECRET-TOKEN-1234 not json', 'rewritten without --remember-answers');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('diagnose --answer writes nothing next to the model unless --remember-answers; then a regular file, atomically', async () => {
  const d = tempDir();
  try {
    const model = join(d, 'm.pt');
    copyFileSync(join(FORMATS, 'torch-gru.pt'), model);
    const input = join(d, 'in.json');
    writeFileSync(input, JSON.stringify({ ...torchInput, y: [[0, 0]] }));
    const args = [
      'diagnose',
      '--model',
      model,
      '--input',
      input,
      '--answer',
      TORCH_ANSWERS,
      '--sections',
      'gradientFlow',
      '--quiet',
      '--out',
      join(d, 'r.json'),
    ];
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(d).sort(), ['in.json', 'm.pt', 'r.json']);
    const again = await runCli([...args, '--remember-answers']);
    assert.equal(again.code, 0, again.stderr);
    const side = `${model}.rnnmemory.json`;
    assert.ok(lstatSync(side).isFile());
    assert.deepEqual((JSON.parse(readFileSync(side, 'utf8')) as { answers: unknown }).answers, {
      'readout.activation': 'linear',
      'readout.perStep': 'last',
    });
    assert.deepEqual(
      readdirSync(d).filter((f) => f.endsWith('.tmp')),
      [],
      'a temporary file was left behind',
    );
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('the extension keeps answers in its own storage: the diagnostics worker writes no sidecar, the store round-trips', async () => {
  const d = tempDir();
  try {
    const model = join(d, 'm.pt');
    copyFileSync(join(FORMATS, 'torch-gru.pt'), model);
    // The worker from the sources through tsx's require hook; the extension runs the same entry bundled.
    const entry = join(d, 'worker.cjs');
    writeFileSync(
      entry,
      `require(${JSON.stringify(require.resolve('tsx/cjs', { paths: [root] }))}); require(${JSON.stringify(join(root, 'core', 'diagnostics', 'worker-entry.ts'))});`,
    );
    const service = new DiagnosticsService(entry);
    try {
      const report = await service.get({
        modelPath: model,
        engine: 'reference',
        T: 4,
        answers: { 'readout.activation': 'linear', 'readout.perStep': 'last' },
      });
      assert.equal(report.model.architecture.layers.length, 2);
    } finally {
      service.dispose();
    }
    assert.deepEqual(readdirSync(d).sort(), ['m.pt', 'worker.cjs'], 'the worker wrote next to the model');

    const mem = new Map<string, unknown>();
    const memento = { get: <T>(k: string) => mem.get(k) as T | undefined, update: async (k: string, v: unknown) => void mem.set(k, v) };
    const store = new AnswerStore(memento, 2);
    await store.set('/a.pt', { 'readout.activation': 'linear' });
    await store.set('/a.pt', { 'readout.perStep': 'last' });
    assert.deepEqual(store.get('/a.pt'), { 'readout.activation': 'linear', 'readout.perStep': 'last' });
    await store.set('/b.pt', { 'readout.activation': 'softmax' });
    await store.set('/c.pt', { 'readout.activation': 'linear' });
    assert.equal(store.get('/a.pt'), undefined, 'the oldest model is forgotten past the limit');
    assert.deepEqual(Object.keys(mem.get(ANSWERS_KEY) as object), ['/b.pt', '/c.pt']);
    mem.set(ANSWERS_KEY, { '/x.pt': { 'readout.activation': 42, ok: 'yes' }, '/y.pt': 'junk' });
    assert.deepEqual(new AnswerStore(memento).get('/x.pt'), { ok: 'yes' });
    assert.equal(new AnswerStore(memento).get('/y.pt'), undefined);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

const smallRun = [
  '--task',
  'copy',
  '--cell',
  'gru',
  '--T',
  '3',
  '--layers',
  '1',
  '--units',
  '4',
  '--batch',
  '4',
  '--eval-every',
  '2',
  '--checkpoint-every',
  '2',
  '--test-size',
  '4',
  '--engine',
  'reference',
  '--steps',
  '4',
];
/** smallRun with another number of steps. */
const stepsRun = (n: number) => [...smallRun.slice(0, -1), String(n)];

/** Every file of a run folder with its bytes. */
function snapshot(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
}

test('train --out on an existing run refuses (exit 2, nothing touched) unless --overwrite; --overwrite does not combine with --resume', async () => {
  const d = tempDir();
  try {
    const run = join(d, 'run');
    const first = await runCli(['train', ...smallRun, '--out', run]);
    assert.equal(first.code, 0, first.stderr);
    for (const f of [RUN_FILES.model, RUN_FILES.checkpoint, RUN_FILES.metrics, RUN_FILES.best, RUN_FILES.config, RUN_FILES.status])
      assert.ok(existsSync(join(run, f)), f);
    const before = snapshot(run);
    const again = await runCli(['train', ...smallRun, '--seed', '9', '--out', run]);
    assert.equal(again.code, 2);
    assert.match(oneLine(again.stderr), /already holds a run .*--resume .*--overwrite/);
    assert.deepEqual(snapshot(run), before, 'the existing run was changed');
    const both = await runCli(['train', '--resume', run, '--overwrite']);
    assert.equal(both.code, 2);
    assert.match(oneLine(both.stderr), /--overwrite .* does not combine with --resume/);
    assert.deepEqual(snapshot(run), before);
    // An empty folder (as the extension creates for each new run) is not a run.
    mkdirSync(join(d, 'empty'));
    assert.equal((await runCli(['train', ...stepsRun(2), '--out', join(d, 'empty')])).code, 0);
    const over = await runCli(['train', ...stepsRun(2), '--seed', '9', '--out', run, '--overwrite']);
    assert.equal(over.code, 0, over.stderr);
    const cfg = JSON.parse(readFileSync(join(run, RUN_FILES.config), 'utf8')) as { seed: number; steps: number };
    assert.deepEqual([cfg.seed, cfg.steps], [9, 2]);
    const metrics = readFileSync(join(run, RUN_FILES.metrics), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { step: number }).step);
    assert.deepEqual(metrics, [0, 2], "the old run's metrics were kept");
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a corrupt checkpoint is named in the error and refused before anything changes; a failed run keeps its step and total in run.json', async () => {
  const d = tempDir();
  try {
    const run = join(d, 'run');
    assert.equal((await runCli(['train', ...smallRun, '--out', run])).code, 0);
    const statusBytes = readFileSync(join(run, RUN_FILES.status));
    const status = JSON.parse(statusBytes.toString('utf8')) as { step: number; totalSteps: number };
    assert.deepEqual([status.step, status.totalSteps], [4, 4]);
    const ckpt = join(run, RUN_FILES.checkpoint);
    const bytes = readFileSync(ckpt);
    writeFileSync(ckpt, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const r = await runCli(['train', '--resume', run, '--steps', '6']);
    assert.equal(r.code, 1);
    assert.match(oneLine(errorLines(r.stderr)), new RegExp(`${RUN_FILES.checkpoint.replace('.', '\\.')}: `));
    // A refused resume is not a failed run: run.json is left exactly as it was.
    assert.ok(readFileSync(join(run, RUN_FILES.status)).equals(statusBytes), 'run.json changed on a refused resume');
    // A run that does fail keeps how far it got, not "step 0 of 0".
    writeFailedStatus(run, 'worker crashed');
    const failed = JSON.parse(readFileSync(join(run, RUN_FILES.status), 'utf8')) as {
      status: string;
      step: number;
      totalSteps: number;
      error: string;
    };
    assert.equal(failed.status, 'failed');
    assert.deepEqual([failed.step, failed.totalSteps], [status.step, status.totalSteps]);
    assert.equal(failed.error, 'worker crashed');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('an unknown --engine is a usage error in every command that takes it', async () => {
  const d = tempDir();
  try {
    const cases = [
      ['trace', '--model', join(d, 'm.safetensors'), '--input', join(d, 'in.json'), '--engine', 'turbo'],
      ['diagnose', '--model', join(d, 'm.safetensors'), '--engine', 'turbo'],
      ['train', '--task', 'copy', '--cell', 'gru', '--engine', 'turbo', '--out', join(d, 'run')],
      ['sweep', '--cells', 'gru', '--T', '3', '--engine', 'turbo', '--out', join(d, 'sweep')],
    ];
    for (const args of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.match(oneLine(r.stderr), /--engine must be fast, native, wasm or reference \(got "turbo"\)/);
    }
    assert.deepEqual(readdirSync(d), [], 'a command wrote something before refusing');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

/** A one-layer GRU model (inputSize 1, `units`, linear readout of 1 unit on h_T). */
function gruModel(path: string, units: number, layers = 1): void {
  const arch = validateArchitecture({
    inputSize: 1,
    layers: Array.from({ length: layers }, () => ({ cell: 'gru', units })),
    readout: { units: 1, activation: 'linear' },
  });
  saveModel(path, createModel(arch, new Rng(1)));
}

test('--input: a UTF-8 BOM is accepted; the size limit is checked before reading; trace refuses passes over --max-values, diagnose over its alias budget', async () => {
  const d = tempDir();
  try {
    const model = join(d, 'gru.safetensors');
    gruModel(model, 4);
    const x = Array.from({ length: 2 }, (_, b) => Array.from({ length: 50 }, (_, t) => [Math.sin(b + t)]));
    const plain = join(d, 'in.json');
    const bom = join(d, 'bom.json');
    writeFileSync(plain, JSON.stringify({ x }));
    writeFileSync(bom, '\uFEFF' + JSON.stringify({ x }));
    const trace = (input: string, out: string, ...more: string[]) =>
      runCli(['trace', '--model', model, '--input', input, '--out', join(d, out), '--engine', 'reference', ...more]);
    assert.equal((await trace(plain, 'a.json')).code, 0);
    const b = await trace(bom, 'b.json');
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(readFileSync(join(d, 'b.json'), 'utf8'), readFileSync(join(d, 'a.json'), 'utf8'));
    const diag = await runCli([
      'diagnose',
      '--model',
      model,
      '--input',
      bom,
      '--sections',
      'gradientFlow',
      '--quiet',
      '--out',
      join(d, 'r.json'),
    ]);
    assert.equal(diag.code, 0, diag.stderr);

    // 3 GB on disk (sparse): refused from its size at once; reading or parsing it would take minutes.
    const huge = join(d, 'huge.json');
    const fd = openSync(huge, 'w');
    ftruncateSync(fd, 3 * 1024 ** 3);
    closeSync(fd);
    const t0 = Date.now();
    for (const cmd of [
      ['trace', '--model', model, '--input', huge, '--out', join(d, 'never.json')],
      ['diagnose', '--model', model, '--input', huge, '--out', join(d, 'never.json')],
    ]) {
      const r = await runCli(cmd);
      assert.equal(r.code, 1);
      assert.match(
        oneLine(r.stderr),
        /huge\.json is 3072\.0 MB, more than the 64 MB an input may have; raise the limit with --max-input-mb N/,
      );
    }
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    const small = await trace(plain, 'c.json', '--max-input-mb', String(statSync(plain).size / 1024 / 1024 / 2));
    assert.equal(small.code, 1);
    assert.match(oneLine(small.stderr), /--max-input-mb/);

    // The trace keeps h and the GRU's two gates per unit and step, plus one output per sequence.
    const count = 2 * 50 * 4 * (1 + 2) + 2 * 1;
    const over = await trace(plain, 'd.json', '--max-values', String(count - 1));
    assert.equal(over.code, 1);
    assert.match(
      oneLine(over.stderr),
      new RegExp(`tracing 2 sequences of 50 steps would produce ${count} values, more than the limit of ${count - 1}; .*--max-values N`),
    );
    assert.ok(!existsSync(join(d, 'd.json')));
    assert.equal((await trace(plain, 'e.json', '--max-values', String(count))).code, 0);
    const dOver = await runCli([
      'diagnose',
      '--model',
      model,
      '--input',
      plain,
      '--max-values',
      String(count - 1),
      '--quiet',
      '--out',
      join(d, 'r2.json'),
    ]);
    assert.equal(dOver.code, 1);
    // diagnose has one size guard, the memory budget; --max-values N is its alias (N values × 8 bytes).
    const budget = ((count - 1) * 8) / 2 ** 20;
    assert.match(
      oneLine(dOver.stderr),
      new RegExp(
        `^rnn-memory: model too large for the current limits: diagnosing T = 50 steps × batch 2 × 4 units needs about [0-9.]+ MB \\(limit ${budget.toPrecision(2)} MB; flag --memory-limit-mb / setting rnnMemory\\.diagnostics\\.memoryLimitMb, or its alias --max-values;`,
      ),
    );
    assert.ok(!existsSync(join(d, 'r2.json')));
    // A budget above the estimate (diagnoseBytes: T·(B + 32)·(inputs + units)·96 bytes) passes.
    const enough = Math.ceil((50 * (2 + 32) * (1 + 4) * 96) / 8);
    const dOk = await runCli([
      'diagnose',
      '--model',
      model,
      '--input',
      plain,
      '--max-values',
      String(enough),
      '--sections',
      'bistability',
      '--quiet',
      '--out',
      join(d, 'r3.json'),
    ]);
    assert.equal(dOk.code, 0, dOk.stderr);
    const dLess = await runCli([
      'diagnose',
      '--model',
      model,
      '--input',
      plain,
      '--max-values',
      String(enough - 100),
      '--sections',
      'bistability',
      '--quiet',
      '--out',
      join(d, 'r4.json'),
    ]);
    assert.equal(dLess.code, 1);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a 1 MB input through a 2 × 128 GRU is refused by the default limit, before any work', async () => {
  const d = tempDir();
  try {
    const model = join(d, 'gru.safetensors');
    gruModel(model, 128, 2);
    const T = 500;
    const B = Math.ceil(1e6 / (T * 4)); // "0.5," is 4 bytes a value
    const input = join(d, 'in.json');
    writeFileSync(input, JSON.stringify({ x: Array.from({ length: B }, () => Array.from({ length: T }, () => [0.5])) }));
    assert.ok(statSync(input).size >= 1e6);
    const values = 2 * B * T * 128 * 3 + B;
    assert.ok(values > 10_000_000);
    const t0 = Date.now();
    const r = await runCli(['trace', '--model', model, '--input', input, '--out', join(d, 'out.json')]);
    assert.equal(r.code, 1);
    assert.match(
      oneLine(r.stderr),
      new RegExp(
        `tracing ${B} sequences of ${T} steps would produce ${(values / 1e6).toFixed(1)} million values, more than the limit of 10\\.0 million`,
      ),
    );
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
    assert.ok(!existsSync(join(d, 'out.json')));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
