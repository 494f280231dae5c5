import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sweepMarkdown, type SweepReport } from '../../core/diagnostics/sweep';
import { runCli } from '../helpers/cli';

const dir = mkdtempSync(join(tmpdir(), 'diag-sweep-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('sweep trains every (cell, T) in workers, writes sweep.json and sweep.md, and reuses completed runs', { timeout: 60_000 }, async () => {
  const out = join(dir, 'sweep');
  const args = ['sweep', '--cells', 'brc,gru', '--T', '4,7', '--steps', '3', '--layers', '1', '--units', '3', '--batch', '4', '--test-size', '8', '--engine', 'reference', '--parallel', '2', '--out', out];
  const res = await runCli(args);
  assert.equal(res.code, 0, res.stderr);
  const r = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as SweepReport;
  assert.deepEqual(r.cells, ['brc', 'gru']);
  assert.deepEqual(r.T, [4, 7]);
  assert.equal(r.task, 'copy');
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
  }
  const md = readFileSync(join(out, 'sweep.md'), 'utf8');
  assert.equal(md, sweepMarkdown(r));
  assert.match(md, /\| cell \| T=4 \| T=7 \|/);
  assert.match(md, /\| brc \| [0-9.e+-]+ \| [0-9.e+-]+ \|/);

  // Rerunning the same command retrains nothing.
  const again = await runCli(args);
  assert.equal(again.code, 0, again.stderr);
  const r2 = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as SweepReport;
  assert.ok(r2.runs.every((x) => x.reused === true && x.status === 'completed'));
  assert.deepEqual(r2.runs.map((x) => x.finalMse), r.runs.map((x) => x.finalMse));
});

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
