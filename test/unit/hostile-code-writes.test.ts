/**
 * Hostile model files and faults (issue 11): a model file cannot make the tool run code it did not pin and
 * confine, answers are never written through a link or next to a model unasked, an existing run is not
 * overwritten, and oversized or malformed inputs fail with one clear line before any work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearCustomCells, registerCustomCell } from '../../core/custom/registry';
import { loadCellDef, loadModelWithCustomCells } from '../../core/custom/resolve';
import { validateArchitecture } from '../../core/model/architecture';
import { saveModel } from '../../core/model/model-file';
import { createModel } from '../../core/model/network';
import { RUN_FILES, runTraining } from '../../core/train/run';
import { Rng } from '../../core/util/rng';
import { main } from '../../core/cli/main';

const root = join(__dirname, '..', '..');
const leakyTs = join(root, 'examples', 'cells', 'leaky-tanh.ts');
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
const ZEROS = '0'.repeat(64);

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
  const arch = validateArchitecture({ inputSize: 1, layers: [{ cell: 'custom', units: 3, custom: { name: 'x', source, sha256: sha } }], readout: { units: 1, activation: 'linear' } });
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
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('rnn-memory:')).join('\n');

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
      for (const cmd of [['trace', '--input', input, '--out', join(d, 'trace.json')], ['diagnose', '--T', '3', '--batch', '2', '--quiet', '--out', join(d, 'report.json')]]) {
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
      config: { task: 'copy', T: 3, cell: 'custom', custom: { name: def.custom.name, source: cell, sha256: def.custom.sha256 }, layers: 1, units: 3, batch: 4, steps: 2, evalEvery: 2, testSize: 4, checkpointEvery: 2 },
    });
    // The run holds its own copy, so the model loads from inside its folder.
    clearCustomCells();
    assert.ok(existsSync(join(run, 'leaky.ts')));
    assert.equal(loadModelWithCustomCells(join(run, RUN_FILES.model), { allowCustomCells: true }).model.arch.layers[0].custom?.name, 'leaky-tanh');
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
