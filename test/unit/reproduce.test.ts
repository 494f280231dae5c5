import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reproduceJobs } from '../../core/cli/reproduce';
import type { SweepReport } from '../../core/diagnostics/sweep';
import { runCli } from '../helpers/cli';

const dir = mkdtempSync(join(tmpdir(), 'reproduce-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("reproduce's grid is the paper's table: copy T ∈ {5,50,100,300,600}, denoise N ∈ {0,200}, sMNIST N ∈ {0,300}, four cells", () => {
  const jobs = reproduceJobs('paper', ['brc', 'nbrc', 'gru', 'lstm'], [1]);
  assert.equal(jobs.length, 4 * (5 + 2 + 2));
  const of = (task: string) => jobs.filter((j) => j.config.task === task && j.config.cell === 'nbrc').map((j) => [j.config.T, j.config.N]);
  assert.deepEqual(of('copy'), [
    [5, 0],
    [50, 0],
    [100, 0],
    [300, 0],
    [600, 0],
  ]);
  assert.deepEqual(of('denoise'), [
    [400, 0],
    [400, 200],
  ]);
  assert.deepEqual(of('smnist'), [
    [784, 0],
    [784, 300],
  ]);
  const copy = jobs.find((j) => j.config.task === 'copy')!.config;
  assert.deepEqual([copy.layers, copy.units, copy.lr], [2, 100, 1e-3]);
  const quick = reproduceJobs('quick', ['gru'], [1, 2]);
  assert.equal(quick.length, 2 * 9);
  assert.equal(new Set(quick.map((j) => j.dir)).size, quick.length, 'one folder per run');
});

test('reproduce trains the whole grid, diagnoses each model and writes one page', { timeout: 240_000 }, async () => {
  const out = join(dir, 'r');
  const res = await runCli([
    'reproduce',
    '--cells',
    'gru',
    '--steps',
    '2',
    '--units',
    '3',
    '--test-size',
    '20',
    '--engine',
    'reference',
    '--out',
    out,
  ]);
  assert.equal(res.code, 0, res.stderr);
  const r = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as SweepReport;
  assert.equal(r.budget, 'quick');
  assert.deepEqual(r.tasks, ['copy', 'denoise', 'smnist']);
  assert.equal(r.runs.length, 9);
  assert.ok(
    r.runs.every((x) => x.status === 'completed'),
    JSON.stringify(r.runs.map((x) => x.status)),
  );
  const smnist = r.runs.filter((x) => x.task === 'smnist');
  assert.ok(smnist.every((x) => x.metricName === 'accuracy' && x.chance !== null && x.chance > 0.05 && x.chance < 0.3));
  // Each benchmark states its own settings (the quick budget differs per task).
  const md = readFileSync(join(out, 'sweep.md'), 'utf8');
  assert.match(
    md,
    /## Copy-first-input[\s\S]*\n2 layers × 3 units, batch 64, 2 steps, lr 0\.01\.\n[\s\S]*## Denoising[\s\S]*\n2 layers × 3 units, batch 64, 2 steps, lr 0\.003\.\n[\s\S]*## Sequential MNIST[\s\S]*\n2 layers × 3 units, batch 64, 2 steps, lr 0\.003, gradient norm clipped at 1\.\n/,
  );
  assert.deepEqual(Object.keys(r.taskConfigs!), ['copy', 'denoise', 'smnist']);
  const html = readFileSync(join(out, 'sweep.html'), 'utf8');
  assert.match(html, /Paper benchmarks reproduced \(quick budget\)/);
  assert.match(html, /Sequential MNIST with black pixels: test accuracy/);
  assert.equal((html.match(/<details>/g) ?? []).length, 9, 'one diagnosis per trained model');
  assert.match(html, /Mean task loss on this batch/);
});
