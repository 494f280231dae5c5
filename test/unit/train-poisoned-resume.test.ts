/**
 * Resuming from a poisoned checkpoint: a NaN weight, a weight beyond float32 (1.5e207), a NaN Adam moment,
 * or a flipped byte under a valid header. `rnn-memory train --resume` must refuse with one line naming the
 * file (and the tensor), exit non-zero, and leave every file of the run byte-for-byte as it was. The
 * checksum covers the whole file; checkpoints written before checksums existed still resume.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readSafetensors, writeSafetensors } from '../../core/model/safetensors';
import { CHECKSUM_KEY } from '../../core/train/checkpoint-checksum';
import { loadCheckpoint, parseCheckpoint, serializeCheckpoint } from '../../core/train/checkpoint';
import { normalizeConfig } from '../../core/train/config';
import { RUN_FILES, runTraining } from '../../core/train/run';

const root = join(__dirname, '..', '..');

/** The CLI in a process of its own, as a user runs it (exit code, stderr). */
function runCli(args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'core', 'cli', 'main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  return { code: r.status, stderr: r.stderr };
}

const config = normalizeConfig({
  task: 'copy',
  cell: 'brc',
  T: 8,
  layers: 1,
  units: 6,
  batch: 8,
  steps: 14,
  seed: 3,
  evalEvery: 7,
  testSize: 16,
  checkpointEvery: 7,
  engine: 'fast',
});

let base: string;
const dirs: string[] = [];

before(() => {
  base = mkdtempSync(join(tmpdir(), 'rnn-poison-base-'));
  runTraining({ outDir: base, config, isCancelled: () => false, emit: () => {} });
});
after(() => {
  for (const d of [base, ...dirs]) rmSync(d, { recursive: true, force: true });
});

/** A copy of the finished base run whose checkpoint is replaced by `poison(original bytes)`. */
function poisonedRun(poison: (bytes: Uint8Array) => Uint8Array): { dir: string; ckpt: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-poison-'));
  dirs.push(dir);
  cpSync(base, dir, { recursive: true });
  const ckpt = join(dir, RUN_FILES.checkpoint);
  writeFileSync(ckpt, poison(new Uint8Array(readFileSync(ckpt))));
  return { dir, ckpt };
}

/** Re-serialises a checkpoint (with a valid checksum) after `edit` changed its tensors. */
function withEdit(edit: (r: ReturnType<typeof parseCheckpoint>['resume']) => void) {
  return (bytes: Uint8Array) => {
    const { config: cfg, resume } = parseCheckpoint(bytes);
    edit(resume);
    return serializeCheckpoint(cfg, resume);
  };
}

const RUN_FILE_NAMES = [RUN_FILES.model, RUN_FILES.best, RUN_FILES.metrics, RUN_FILES.status, RUN_FILES.checkpoint, RUN_FILES.config];

function snapshot(dir: string): Map<string, Buffer> {
  return new Map(RUN_FILE_NAMES.map((f) => [f, readFileSync(join(dir, f))]));
}

const POISONS: { name: string; poison: (b: Uint8Array) => Uint8Array; expect: RegExp }[] = [
  {
    name: 'a NaN weight',
    poison: withEdit((r) => (r.model.params.get('layers.0.U_c')!.data[2] = NaN)),
    expect: /tensor "layers\.0\.U_c" has NaN at index 2; refusing to train from non-finite parameters/,
  },
  {
    name: 'a weight beyond float32 (1.5e207)',
    poison: withEdit((r) => (r.model.params.get('readout.kernel')!.data[1] = 1.5e207)),
    expect: /tensor "readout\.kernel" has 1\.5e\+207 at index 1, beyond the float32 range; refusing/,
  },
  {
    name: 'a NaN Adam moment',
    poison: withEdit((r) => r.adamV.get('layers.0.b_a')!.fill(NaN)),
    expect: /tensor "adam\.v\.layers\.0\.b_a" has NaN at index 0 \(6 such values in all\); refusing/,
  },
  {
    // The lowest mantissa byte of the last float64 (little-endian): still finite, only the checksum sees it.
    name: 'a flipped byte in the tensor data (valid header)',
    poison: (b) => {
      const c = b.slice();
      c[c.length - 8] ^= 0x01;
      return c;
    },
    expect: /checksum mismatch: the file is corrupt or was modified after it was written/,
  },
  {
    name: 'a truncated file (no header)',
    poison: (b) => b.slice(0, 5),
    expect: /safetensors: file is shorter than 8 bytes/,
  },
];

for (const { name, poison, expect } of POISONS) {
  test(`train --resume refuses a checkpoint with ${name}: one line naming the file, exit 1, run files untouched`, () => {
    const { dir, ckpt } = poisonedRun(poison);
    const before = snapshot(dir);
    const r = runCli(['train', '--resume', dir, '--steps', '21']);
    assert.equal(r.code, 1, r.stderr);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('rnn-memory: '));
    assert.equal(errors.length, 1, r.stderr);
    assert.ok(errors[0].startsWith(`rnn-memory: ${ckpt}: `), errors[0]);
    assert.match(errors[0], expect);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const now = snapshot(dir);
    for (const [f, bytes] of before) assert.ok(now.get(f)!.equals(bytes), `${f} changed`);
  });
}

test('the checksum covers the header too: a changed digit in the stored config is caught', () => {
  const bytes = new Uint8Array(readFileSync(join(base, RUN_FILES.checkpoint)));
  assert.equal(parseCheckpoint(bytes).checksum, 'verified');
  const text = Buffer.from(bytes).toString('latin1');
  const at = text.indexOf('\\"seed\\":3');
  assert.ok(at > 0, 'the config in the metadata records the seed');
  const edited = bytes.slice();
  edited[at + '\\"seed\\":'.length] = '4'.charCodeAt(0); // valid JSON, a different run
  assert.throws(() => parseCheckpoint(edited), /^Error: checksum mismatch/);
  assert.equal(parseCheckpoint(bytes).config.seed, 3);
});

test('a checkpoint without a checksum (an older version) resumes', () => {
  const stripped = (b: Uint8Array) => {
    const { tensors, metadata } = readSafetensors(b);
    const { [CHECKSUM_KEY]: sum, ...rest } = metadata;
    assert.match(sum, /^sha256:[0-9a-f]{64}$/);
    return writeSafetensors(new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }])), rest, 'F64');
  };
  const { dir, ckpt } = poisonedRun(stripped);
  assert.equal(loadCheckpoint(ckpt).checksum, 'absent');
  const r = runCli(['train', '--resume', dir, '--steps', '21']);
  assert.equal(r.code, 0, r.stderr);
  // The resumed run writes checksummed checkpoints again.
  assert.equal(loadCheckpoint(ckpt).checksum, 'verified');
  assert.equal(loadCheckpoint(ckpt).resume.state.step, 21);
});

test('a checkpoint that claims a checksum it does not carry in the expected form is refused', () => {
  const b = new Uint8Array(readFileSync(join(base, RUN_FILES.checkpoint)));
  const { tensors, metadata } = readSafetensors(b);
  const bad = writeSafetensors(
    new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }])),
    { ...metadata, [CHECKSUM_KEY]: 'md5:0' },
    'F64',
  );
  assert.throws(() => parseCheckpoint(bad), /checksum entry is malformed/);
});
