import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { referenceCell } from '../../core/cells/index';
import { runTraining, RUN_FILES } from '../../core/train/run';
import type { TrainConfig } from '../../core/train/types';
import { isInside, isSafeRunId, listRuns, newRunId, readMetrics, snapshotFromDisk } from '../../extension/runs';

const small: Partial<TrainConfig> = {
  task: 'copy',
  cell: 'gru',
  T: 6,
  layers: 1,
  units: 4,
  batch: 8,
  steps: 30,
  evalEvery: 10,
  testSize: 16,
  checkpointEvery: 10,
  engine: 'reference',
};

function train(dir: string, cfg: Partial<TrainConfig>, stopAt?: number): void {
  let evalStep = 0;
  runTraining({
    outDir: dir,
    config: cfg,
    isCancelled: () => stopAt !== undefined && evalStep >= stopAt,
    emit: (e) => {
      if (e.type === 'eval') evalStep = e.step;
    },
    cells: referenceCell,
  });
}

function withRuns(fn: (runs: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'ext-runs-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function touch(path: string, secondsAgo: number): void {
  const t = Date.now() / 1000 - secondsAgo;
  utimesSync(path, t, t);
}

test('listRuns finds real runs with their state, newest first, and skips non-runs', () => {
  withRuns((runs) => {
    train(join(runs, 'a-done'), small);
    train(join(runs, 'b-stopped'), small, 10);
    train(join(runs, 'c-crashed'), small, 20);
    const crashed = join(runs, 'c-crashed', RUN_FILES.status);
    writeFileSync(crashed, JSON.stringify({ ...JSON.parse(readFileSync(crashed, 'utf8')), status: 'running' }));
    mkdirSync(join(runs, 'not-a-run'));
    writeFileSync(join(runs, 'not-a-run', 'notes.txt'), 'x');
    mkdirSync(join(runs, '.hidden'));
    writeFileSync(join(runs, '.hidden', RUN_FILES.status), '{"status":"completed"}');
    writeFileSync(join(runs, 'loose-file.json'), '{}');
    touch(join(runs, 'a-done', RUN_FILES.status), 300);
    touch(join(runs, 'b-stopped', RUN_FILES.status), 200);
    touch(crashed, 100);

    const list = listRuns(runs);
    assert.deepEqual(
      list.map((r) => r.id),
      ['c-crashed', 'b-stopped', 'a-done'],
    );
    const byId = Object.fromEntries(list.map((r) => [r.id, r]));
    assert.equal(byId['a-done'].state, 'completed');
    assert.equal(byId['a-done'].resumable, false);
    assert.equal(byId['a-done'].status?.step, 30);
    assert.equal(byId['b-stopped'].state, 'cancelled');
    assert.equal(byId['b-stopped'].resumable, true);
    assert.equal(byId['b-stopped'].status?.step, 10);
    // "running" on disk but not live in this window: a crash or a reload interrupted it.
    assert.equal(byId['c-crashed'].state, 'interrupted');
    assert.equal(byId['c-crashed'].resumable, true);
    assert.equal(byId['c-crashed'].label, 'copy · GRU T=6 · 1×4');
    for (const r of list) {
      assert.equal(r.hasCheckpoint, true);
      assert.equal(r.hasModel, true);
      assert.equal(r.config?.units, 4);
    }
    // The same folder while its run is live in this window: running, and not offered for resume.
    const live = listRuns(runs, new Set(['c-crashed'])).find((r) => r.id === 'c-crashed')!;
    assert.equal(live.state, 'running');
    assert.equal(live.resumable, false);
  });
});

test('broken run files are tolerated: bad JSON gives unknown state, no config, no resume without a checkpoint', () => {
  withRuns((runs) => {
    mkdirSync(join(runs, 'broken'));
    writeFileSync(join(runs, 'broken', RUN_FILES.status), '{not json');
    writeFileSync(join(runs, 'broken', RUN_FILES.config), JSON.stringify({ task: 'copy', cell: 'transformer' }));
    mkdirSync(join(runs, 'only-config'));
    writeFileSync(join(runs, 'only-config', RUN_FILES.config), JSON.stringify({ task: 'denoise', cell: 'brc', T: 50, N: 20 }));
    const list = listRuns(runs);
    const broken = list.find((r) => r.id === 'broken')!;
    assert.equal(broken.state, 'unknown');
    assert.equal(broken.config, null);
    assert.equal(broken.label, 'broken');
    assert.equal(broken.resumable, false);
    const onlyConfig = list.find((r) => r.id === 'only-config')!;
    assert.equal(onlyConfig.config?.task, 'denoise');
    assert.equal(onlyConfig.status, null);
    assert.equal(onlyConfig.hasCheckpoint, false);
    assert.deepEqual(listRuns(join(runs, 'does-not-exist')), []);
  });
});

test('readMetrics and snapshotFromDisk rebuild the curve of a finished run', () => {
  withRuns((runs) => {
    const dir = join(runs, 'r');
    train(dir, small);
    const lines = readFileSync(join(dir, RUN_FILES.metrics), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    writeFileSync(join(dir, RUN_FILES.metrics), readFileSync(join(dir, RUN_FILES.metrics), 'utf8') + '{"step": 99, "testLo');
    const pts = readMetrics(dir);
    assert.deepEqual(
      pts.map((p) => p.step),
      [0, 10, 20, 30],
    );
    assert.deepEqual(
      pts.map((p) => p.testLoss),
      lines.map((l) => l.testLoss),
    );
    assert.equal(pts[0].loss, undefined); // no training loss before the first step
    assert.equal(pts[3].loss, lines[3].trainLoss);
    const run = listRuns(runs)[0];
    const snap = snapshotFromDisk(run)!;
    assert.equal(snap.runId, 'r');
    assert.equal(snap.status, 'completed');
    assert.equal(snap.step, 30);
    assert.equal(snap.totalSteps, 30);
    assert.equal(snap.metricName, 'mse');
    assert.equal(snap.points.length, 4);
  });
});

test('newRunId is unique in its folder and names task and cell; unsafe ids are refused', () => {
  withRuns((runs) => {
    const now = new Date(2026, 10, 28, 9, 5, 7);
    const a = newRunId(runs, { task: 'copy', cell: 'brc' }, now);
    assert.equal(a, '20261128-090507-copy-brc');
    mkdirSync(join(runs, a));
    const b = newRunId(runs, { task: 'copy', cell: 'brc' }, now);
    assert.equal(b, '20261128-090507-copy-brc-2');
    assert.ok(isSafeRunId(a));
    for (const bad of ['..', '.', 'a/b', 'a\\b', '', 'x'.repeat(201), '../etc']) assert.equal(isSafeRunId(bad), false, bad);
  });
});

test('isInside accepts the folder and its descendants only', () => {
  assert.equal(isInside('/w/runs/a/model.safetensors', '/w/runs'), true);
  assert.equal(isInside('/w/runs', '/w/runs'), true);
  assert.equal(isInside('/w/runs2/a', '/w/runs'), false);
  assert.equal(isInside('/w/a', '/w/runs'), false);
  assert.equal(isInside('/w/runs/../x', '/w/runs'), false);
  assert.equal(isInside('/w/runs/..x/y', '/w/runs'), true);
});
