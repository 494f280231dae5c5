import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DiagnosticReport } from '../../core/diagnostics/types';
import { saveModel } from '../../core/model/model-file';
import { runCli } from '../helpers/cli';
import { latchBatch, plantedLatchModel } from '../helpers/memory-models';

const dir = mkdtempSync(join(tmpdir(), 'memory-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const modelPath = join(dir, 'latch.safetensors');
saveModel(modelPath, plantedLatchModel());
const T = 60;
const B = 64;

/** The planted batch as an --input file: x batch × time × [value, 1], y = x₁ (or `y` when given). */
function inputFile(name: string, y?: (b: number, x1: number) => number): string {
  const batch = latchBatch(B, T, 1);
  const x = Array.from({ length: B }, (_, b) =>
    Array.from({ length: T }, (_, t) => [batch.x[(t * B + b) * 2], batch.x[(t * B + b) * 2 + 1]]),
  );
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ x, y: Array.from(batch.y!, (v, b) => (y ? y(b, v) : v)) }));
  return path;
}

test('diagnose --input with y and --memory-threshold: the carriers of y, named on stderr', async () => {
  const out = join(dir, 'r.json');
  const res = await runCli([
    'diagnose',
    '--model',
    modelPath,
    '--input',
    inputFile('in.json'),
    '--sections',
    'bistability,memory',
    '--memory-threshold',
    '0.2',
    '--out',
    out,
  ]);
  assert.equal(res.code, 0, res.stderr);
  const r = JSON.parse(readFileSync(out, 'utf8')) as DiagnosticReport;
  const m = r.memory!;
  assert.equal(m.threshold, 0.2);
  assert.equal(m.target, 'y');
  assert.equal(m.sequences, B);
  assert.deepEqual(m.carriers.map((c) => [c.neuron, c.from, c.to]).sort(), [
    [0, 0, T - 1],
    [1, 0, T - 1],
  ]);
  assert.match(res.stderr, /neurons 0 and 1 hold the target y from t = 0 to 59 on bistable branches/);
  assert.match(res.stderr, /\(a constant unit, not memory\)/);
  // y unrelated to the inputs: no carrier, and no claim of latched memory.
  const res2 = await runCli([
    'diagnose',
    '--model',
    modelPath,
    '--input',
    inputFile('noise.json', (b) => Math.sin(37 * b)),
    '--sections',
    'bistability,memory',
    '--memory-min-steps',
    '10',
    '--out',
    out,
  ]);
  assert.equal(res2.code, 0, res2.stderr);
  const r2 = JSON.parse(readFileSync(out, 'utf8')) as DiagnosticReport;
  assert.equal(r2.memory!.minSteps, 10);
  assert.equal(r2.memory!.total, 0);
  assert.doesNotMatch(res2.stderr, /latched memory/);
});

test('diagnose memory flags: one clear line and exit code 2 on bad values', async () => {
  const input = inputFile('in2.json');
  const cases: [string[], RegExp][] = [
    [['--memory-threshold', '1.5'], /--memory-threshold must be between 0 and 1/],
    [['--memory-threshold', 'x'], /--memory-threshold must be a number/],
    [['--memory-min-steps', '0'], /--memory-min-steps must be a positive integer/],
    [['--memory-batch', '100', '--input', input], /--memory-batch cannot be combined with --input/],
    [['--memory-batch', '2'], /--memory-batch must be at least 4/],
  ];
  for (const [extra, msg] of cases) {
    const res = await runCli(['diagnose', '--model', modelPath, ...extra]);
    assert.equal(res.code, 2, `${extra.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr, msg);
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
  }
});
