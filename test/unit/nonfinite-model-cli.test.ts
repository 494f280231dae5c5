/**
 * Models with non-finite parameters on `trace` and `diagnose`: warned about on stderr, still computed, and
 * the fast engine gives the same NaN pattern (null in JSON) as the reference. A value finite in float64 but
 * beyond float32 (1.5e207) is warned about when the fast engine, which computes in float32, would run it.
 * A diagnosis of a NaN model opens with a warning sentence (in the report, so panels and HTML show it too).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fastEngineStatus } from '../../core/engine/index';
import { saveModel } from '../../core/model/model-file';
import { createModel } from '../../core/model/network';
import { Rng } from '../../core/util/rng';

const root = join(__dirname, '..', '..');
const skip = fastEngineStatus().available ? false : 'fast engine unavailable';
const dir = mkdtempSync(join(tmpdir(), 'rnn-nonfinite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'core', 'cli', 'main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A 2-layer GRU model saved as float64 with `value` at index 4 of layers.0.kernel. */
function poisonedModel(name: string, value: number): string {
  const model = createModel(
    {
      inputSize: 2,
      layers: [
        { cell: 'gru', units: 5 },
        { cell: 'gru', units: 5 },
      ],
      readout: { units: 1, activation: 'linear', perStep: false },
    },
    new Rng(2),
  );
  model.params.get('layers.0.kernel')!.data[4] = value;
  const path = join(dir, `${name}.safetensors`);
  saveModel(path, model, { dtype: 'F64' });
  return path;
}

const input = join(dir, 'input.json');
const rng = new Rng(9);
writeFileSync(
  input,
  JSON.stringify({
    x: Array.from({ length: 3 }, () => Array.from({ length: 6 }, () => [rng.normal(), rng.normal()])),
    y: [[0.5], [-0.5], [0]],
  }),
);

function flat(v: unknown): unknown[] {
  return Array.isArray(v) ? v.flatMap(flat) : [v];
}

test('trace of a NaN model warns and gives null exactly where the reference does, on both engines', { skip }, () => {
  const model = poisonedModel('nan', NaN);
  const runs = (['fast', 'reference'] as const).map((engine) => {
    const r = cli(['trace', '--model', model, '--input', input, '--engine', engine]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /warning: tensor "layers\.0\.kernel" has 1 non-finite value \(NaN\/Inf\)/);
    return JSON.parse(r.out) as { y: unknown; layers: { h: unknown; gates: Record<string, unknown> }[] };
  });
  const [fast, ref] = runs.map((o) => flat([o.y, ...o.layers.map((l) => [l.h, ...Object.values(l.gates)])]));
  assert.equal(fast.length, ref.length);
  const nulls = ref.filter((v) => v === null).length;
  assert.ok(nulls > 0 && nulls < ref.length, `the NaN should reach some outputs but not all (${nulls} of ${ref.length})`);
  for (let i = 0; i < ref.length; i++) {
    if (ref[i] === null) assert.equal(fast[i], null, `output ${i}: fast ${fast[i]}, reference null`);
    else
      assert.ok(
        typeof fast[i] === 'number' && Math.abs((fast[i] as number) - (ref[i] as number)) < 1e-4,
        `output ${i}: fast ${fast[i]}, reference ${ref[i]}`,
      );
  }
});

test('a weight beyond float32 is warned about for the fast engine only, and the model is still traced', { skip }, () => {
  const model = poisonedModel('huge', 1.5e207);
  const fast = cli(['trace', '--model', model, '--input', input, '--engine', 'fast']);
  assert.equal(fast.code, 0, fast.err);
  assert.match(
    fast.err,
    /^warning: tensor "layers\.0\.kernel" has 1\.5e\+207 at index 4, beyond the float32 range: the native engine computes in float32, where it is ±Infinity \(--engine reference computes in float64\)$/m,
  );
  assert.ok(JSON.parse(fast.out).layers.length === 2);
  const ref = cli(['trace', '--model', model, '--input', input, '--engine', 'reference']);
  assert.equal(ref.code, 0, ref.err);
  assert.doesNotMatch(ref.err, /float32/);
  const d = cli(['diagnose', '--model', model, '--input', input, '--sections', 'retention', '--quiet']);
  assert.equal(d.code, 0, d.err);
  assert.match(d.err, /beyond the float32 range: the native engine computes in float32/);
  assert.doesNotMatch(d.err, /non-finite weights/, 'finite in float64: the diagnosis itself has nothing to say');
});

test('diagnose of a NaN model runs, and its diagnosis starts with a warning naming the tensor', { skip }, () => {
  const model = poisonedModel('nan-diag', NaN);
  const out = join(dir, 'report.json');
  const d = cli(['diagnose', '--model', model, '--input', input, '--sections', 'bistability,gradientFlow', '--out', out]);
  assert.equal(d.code, 0, d.err);
  assert.match(
    d.err,
    /^! The model has non-finite weights \(tensor "layers\.0\.kernel" has NaN at index 4\): every result they reach is NaN\.$/m,
  );
  const report = JSON.parse(readFileSync(out, 'utf8')) as { diagnosis: { severity: string; text: string }[] };
  assert.equal(report.diagnosis[0].severity, 'warning');
  assert.match(report.diagnosis[0].text, /layers\.0\.kernel/);
});
