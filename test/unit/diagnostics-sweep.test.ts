import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spread, sweepMarkdown, type SweepReport } from '../../core/diagnostics/sweep';
import { chanceOfBatches, testChance } from '../../core/tasks/chance';
import { makeTask } from '../../core/tasks/index';
import { runCli } from '../helpers/cli';

const dir = mkdtempSync(join(tmpdir(), 'diag-sweep-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test(
  'sweep trains every (cell, T) in workers, writes sweep.json and sweep.md, and reuses completed runs',
  { timeout: 60_000 },
  async () => {
    const out = join(dir, 'sweep');
    const args = [
      'sweep',
      '--cells',
      'brc,gru',
      '--T',
      '4,7',
      '--steps',
      '3',
      '--layers',
      '1',
      '--units',
      '3',
      '--batch',
      '4',
      '--test-size',
      '8',
      '--engine',
      'reference',
      '--parallel',
      '2',
      '--out',
      out,
    ];
    const res = await runCli(args);
    assert.equal(res.code, 0, res.stderr);
    const r = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as SweepReport;
    assert.deepEqual(r.cells, ['brc', 'gru']);
    assert.deepEqual(r.T, [4, 7]);
    assert.equal(r.task, 'copy');
    assert.deepEqual(r.tasks, ['copy']);
    assert.deepEqual(r.seeds, [1]);
    assert.equal(r.groups.length, 4);
    assert.deepEqual(r.config, { steps: 3, layers: 1, units: 3, batch: 4, seed: 1, lr: 1e-3, engine: 'reference' });
    assert.equal(r.runs.length, 4);
    for (const run of r.runs) {
      assert.equal(run.status, 'completed', JSON.stringify(run));
      assert.equal(run.steps, 3);
      assert.ok(typeof run.finalMse === 'number' && run.finalMse > 0);
      assert.ok(existsSync(join(out, run.dir, 'model.safetensors')));
      // The final MSE is the run's own last evaluation.
      const status = JSON.parse(readFileSync(join(out, run.dir, 'run.json'), 'utf8')) as { lastMetric: number };
      assert.equal(run.finalMse, status.lastMetric);
      const cfg = JSON.parse(readFileSync(join(out, run.dir, 'config.json'), 'utf8')) as { cell: string; T: number; task: string };
      assert.deepEqual([cfg.task, cfg.cell, cfg.T], ['copy', run.cell, run.T]);
      // Curve, best and chance come from the run's own files and test set.
      const lines = readFileSync(join(out, run.dir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { step: number; metric: number });
      assert.deepEqual(
        run.curve,
        lines.map((l) => [l.step, l.metric]),
      );
      assert.equal(run.best!.metric, Math.min(...lines.map((l) => l.metric)));
      assert.equal(run.chance, testChance({ task: 'copy', T: run.T, N: 0, seed: 1, testSize: 8 }).metric);
    }
    assert.ok(existsSync(join(out, 'sweep.html')));
    assert.match(readFileSync(join(out, 'sweep.html'), 'utf8'), /<polyline[^>]*stroke="#1f77b4"/);
    const md = readFileSync(join(out, 'sweep.md'), 'utf8');
    assert.equal(md, sweepMarkdown(r));
    assert.match(md, /\| cell \| T=4 \| T=7 \|/);
    assert.match(md, /\| brc \| [0-9.e+-]+( \(best [0-9.e+-]+\))? \| [0-9.e+-]+( \(best [0-9.e+-]+\))? \|/);
    assert.match(md, /\| \*chance \(this test set\)\* \| [0-9.]+ \| [0-9.]+ \|/);

    // Rerunning the same command retrains nothing.
    const again = await runCli(args);
    assert.equal(again.code, 0, again.stderr);
    const r2 = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as SweepReport;
    assert.ok(r2.runs.every((x) => x.reused === true && x.status === 'completed'));
    assert.deepEqual(
      r2.runs.map((x) => x.finalMse),
      r.runs.map((x) => x.finalMse),
    );
  },
);

test('sweep refuses bad lists before starting anything', async () => {
  const out = join(dir, 'bad');
  for (const [args, msg] of [
    [['--cells', 'brc,rnn'], /unknown cell "rnn"/],
    [['--T', '5,x'], /"x" is not a positive integer/],
    [['--T', '5,5'], /lists a value twice/],
    [['--parallel', '0'], /--parallel must be at least 1/],
  ] as const) {
    const res = await runCli(['sweep', ...args, '--out', out]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, msg);
  }
  assert.equal(existsSync(out), false);
  const res = await runCli(['sweep', '--cells', 'brc']);
  assert.match(res.stderr, /sweep needs --out/);
});

test('sweep --seeds trains each configuration once per seed and reports mean ± sd over them', { timeout: 60_000 }, async () => {
  const out = join(dir, 'seeds');
  const res = await runCli([
    'sweep',
    '--task',
    'denoise',
    '--cells',
    'gru',
    '--T',
    '8',
    '--N',
    '0,2',
    '--seeds',
    '1,2,3',
    '--steps',
    '2',
    '--layers',
    '1',
    '--units',
    '3',
    '--batch',
    '4',
    '--test-size',
    '8',
    '--engine',
    'reference',
    '--out',
    out,
  ]);
  assert.equal(res.code, 0, res.stderr);
  const r = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as SweepReport;
  assert.deepEqual(r.seeds, [1, 2, 3]);
  assert.deepEqual(r.N, [0, 2]);
  assert.equal(r.runs.length, 6);
  assert.deepEqual(
    r.runs.map((x) => x.dir),
    ['gru-T8-N0-seed1', 'gru-T8-N0-seed2', 'gru-T8-N0-seed3', 'gru-T8-N2-seed1', 'gru-T8-N2-seed2', 'gru-T8-N2-seed3'],
  );
  assert.equal(r.groups.length, 2);
  for (const g of r.groups) {
    const finals = r.runs.filter((x) => x.N === g.N).map((x) => x.finalMetric!);
    const m = finals.reduce((a, b) => a + b, 0) / 3;
    const sd = Math.sqrt(finals.reduce((a, b) => a + (b - m) ** 2, 0) / 2);
    assert.ok(Math.abs(g.final!.mean - m) < 1e-12 && Math.abs(g.final!.sd - sd) < 1e-12);
    assert.equal(g.final!.n, 3);
    assert.ok(sd > 0, 'different seeds give different results');
  }
  assert.match(
    readFileSync(join(out, 'sweep.md'), 'utf8'),
    /Denoising \(test MSE\)[\s\S]*\| cell \| N=0 \| N=2 \|[\s\S]*\| gru \| [0-9.]+ ± [0-9.e-]+/,
  );
  const bad = await runCli(['sweep', '--task', 'copy', '--N', '3', '--out', join(dir, 'never')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--N does not apply to copy/);
});

test('chance level: the variance of the test targets (MSE) or the most frequent class (accuracy), checked by hand', () => {
  const b = makeTask({ task: 'copy', T: 5, N: 0, seed: 4, testSize: 300 }).testBatches(100);
  const ys = b.flatMap((x) => [...x.y!]);
  const m = ys.reduce((a, v) => a + v, 0) / ys.length;
  const v = ys.reduce((a, y) => a + (y - m) ** 2, 0) / ys.length;
  const c = chanceOfBatches(b);
  assert.equal(c.n, 300);
  assert.ok(Math.abs(c.metric - v) < 1e-12 && Math.abs(c.metric - 1) < 0.2);
  const labels = { x: new Float64Array(4), T: 1, B: 4, inputSize: 1, labels: Int32Array.from([2, 7, 2, 1]) };
  assert.deepEqual(chanceOfBatches([labels]), { metric: 0.5, metricName: 'accuracy', n: 4 });
  assert.deepEqual(spread([1, 2, 3]), { mean: 2, sd: 1, min: 1, max: 3, n: 3 });
  assert.equal(spread([NaN]), null);
});
