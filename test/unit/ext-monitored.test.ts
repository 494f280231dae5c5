/**
 * The host side of monitored runs without VS Code: the metrics tail reads only what was appended (whole
 * lines), the store folds followed metrics and relisted status in purely, the tree shows a run written by
 * the real Monitor (train_tiny.py) with its snapshots, live / stopped from the heartbeat, and bad runs,
 * partial snapshots and empty watched folders as one row each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsTail } from '../../extension/metrics-tail';
import { monitoredRunId, monitoredRunsIn, readWatchedFolder, type MonitoredRun } from '../../extension/monitored-runs';
import { monitoredSnapshot } from '../../extension/monitored-state';
import { OPEN_SNAPSHOT_COMMAND } from '../../extension/monitored-tree';
import { listRuns } from '../../extension/runs';
import { INITIAL_STATE, updateHostState, type HostState } from '../../extension/store';
import { treeView } from '../../extension/store-views';
import type { TreeNode } from '../../extension/tree-items';
import { skipWithoutPython, TORCH_FIXTURES, torchPython } from '../helpers/torch-python';

const dir = mkdtempSync(join(tmpdir(), 'ext-monitored-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const line = (o: object) => JSON.stringify(o) + '\n';

test('the metrics tail returns only appended whole lines, and reads a replaced file again', () => {
  const path = join(dir, 'metrics.jsonl');
  writeFileSync(path, line({ step: 1, trainLoss: 0.5 }) + line({ step: 2, trainLoss: 0.4, metric: 0.3 }));
  const tail = new MetricsTail(path);
  assert.deepEqual(tail.read(), [
    { step: 1, trainLoss: 0.5 },
    { step: 2, trainLoss: 0.4, metric: 0.3 },
  ]);
  assert.deepEqual(tail.read(), []);
  // A line being written: nothing until its newline, then exactly that line.
  appendFileSync(path, '{"step": 3, "trainL');
  assert.deepEqual(tail.read(), []);
  appendFileSync(path, 'oss": 0.25, "testLoss": null}\n' + 'not json\n' + line({ step: 4, metric: 0.2 }));
  assert.deepEqual(tail.read(), [
    { step: 3, trainLoss: 0.25 },
    { step: 4, metric: 0.2 },
  ]);
  assert.equal(tail.position, readFileSync(path).length);
  writeFileSync(path, line({ step: 1, trainLoss: 9 }));
  assert.deepEqual(tail.read(), [{ step: 1, trainLoss: 9 }], 'a shorter file is a new file');
  assert.deepEqual(new MetricsTail(join(dir, 'missing.jsonl')).read(), []);
});

const run = (over: Partial<MonitoredRun> = {}): MonitoredRun => ({
  dir: '/runs/a',
  name: 'a',
  kind: 'monitored',
  state: 'live',
  step: 20,
  totalSteps: 40,
  snapshots: [
    { step: 10, path: '/runs/a/snapshots/step-00000010.safetensors' },
    { step: 20, path: '/runs/a/snapshots/step-00000020.safetensors', problem: 'snapshot is partial or damaged' },
  ],
  id: monitoredRunId('/runs/a'),
  task: { name: 'copy', T: 6 },
  metricName: 'mse',
  last: { step: 20, trainLoss: 0.125, metric: 0.5 },
  ...over,
});

test('store: a followed run grows by appended lines and turns stopped when relisted so; other runs change nothing', () => {
  const r = run();
  const listed = updateHostState(INITIAL_STATE, { type: 'monitoredListed', monitored: [r], watched: [] });
  const followed = updateHostState(listed, {
    type: 'monitorFollowed',
    snapshot: monitoredSnapshot(r, [
      { step: 5, trainLoss: 1 },
      { step: 10, trainLoss: 0.5, metric: 0.7 },
    ]),
  });
  const snap0 = followed.followed.get(r.id)!;
  assert.equal(snap0.status, 'running');
  assert.equal(snap0.step, 20, 'run.json is ahead of the metrics read so far');
  assert.deepEqual(snap0.points, [
    { step: 5, loss: 1 },
    { step: 10, loss: 0.5, metric: 0.7 },
  ]);
  const grown = updateHostState(followed, { type: 'monitorMetrics', runId: r.id, lines: [{ step: 25, trainLoss: 0.25 }] });
  assert.deepEqual(grown.followed.get(r.id)!.points.at(-1), { step: 25, loss: 0.25 });
  assert.equal(grown.followed.get(r.id)!.step, 25);
  assert.equal(followed.followed.get(r.id), snap0, 'the previous state is unchanged');
  assert.equal(
    updateHostState(grown, { type: 'monitorMetrics', runId: 'mon.0000000000000000', lines: [{ step: 1, trainLoss: 1 }] }),
    grown,
  );
  const stopped = updateHostState(grown, { type: 'monitoredListed', monitored: [run({ state: 'stopped' })], watched: [] });
  assert.equal(stopped.followed.get(r.id)!.status, 'stopped');
  assert.equal(stopped.followed.get(r.id)!.points.length, 3);
});

function find(nodes: readonly TreeNode[], pred: (n: TreeNode) => boolean): TreeNode | undefined {
  for (const n of nodes) {
    if (pred(n)) return n;
    const c = find(n.children ?? [], pred);
    if (c) return c;
  }
  return undefined;
}

test('tree: a live run with its snapshots (newest first), a bad run and an empty watched folder are one row each', () => {
  const bad = run({
    dir: '/runs/b',
    name: 'b',
    id: monitoredRunId('/runs/b'),
    state: 'bad',
    problem: 'the model code of run /runs/b has moved',
  });
  const s: HostState = updateHostState(INITIAL_STATE, {
    type: 'monitoredListed',
    monitored: [run(), bad],
    watched: [{ dir: '/synced/empty', runs: [], problem: 'empty holds no runs (a run folder has run.json)' }],
  });
  const tree = treeView(s);
  const runs = tree.find((n) => n.id === 'group:runs')!;
  assert.equal(runs.description, '2');
  const a = find(tree, (n) => n.label === 'a')!;
  assert.equal(a.contextValue, 'monitoredRun;live');
  assert.equal(a.description, 'live · step 20/40 · loss 0.125 · mse 0.5 · 2 snapshots');
  const [partial, whole] = a.children!;
  assert.equal(partial.contextValue, 'badSnapshot');
  assert.equal(partial.command, undefined, 'a partial snapshot is not diagnosed');
  assert.match(partial.description!, /^partial: /);
  assert.equal(whole.label, 'step 10');
  assert.deepEqual(whole.command, { command: OPEN_SNAPSHOT_COMMAND, title: 'Open Diagnostics', args: [{ run: '/runs/a', step: 10 }] });
  const b = find(tree, (n) => n.label === 'b')!;
  assert.equal(b.description, 'bad: the model code of run /runs/b has moved');
  assert.deepEqual(b.children, []);
  const watched = tree.find((n) => n.id === 'watched:/synced/empty')!;
  assert.deepEqual(
    watched.children!.map((c) => c.label),
    ['empty holds no runs (a run folder has run.json)'],
  );
});

const python = torchPython.python ?? 'python3';
test(
  'a run written by the Monitor is listed with its snapshots, live or stopped by its heartbeat',
  { skip: skipWithoutPython('ext-monitored.test.ts') },
  () => {
    const runs = join(dir, 'runs');
    const code = join(dir, 'code');
    cpSync(join(TORCH_FIXTURES, 'monitor'), code, { recursive: true });
    const r = spawnSync(python, [join(code, 'train_tiny.py'), join(runs, 'tiny'), '--steps', '30', '--every', '10', '--keep-last', '2'], {
      env: { ...process.env, PYTHONPATH: join(__dirname, '..', '..', 'python'), PYTHONDONTWRITEBYTECODE: '1' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    mkdirSync(join(runs, 'not-a-run'));
    const status = JSON.parse(readFileSync(join(runs, 'tiny', 'run.json'), 'utf8')) as Record<string, unknown>;
    const lines = readFileSync(join(runs, 'tiny', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);

    const [tiny] = monitoredRunsIn(runs);
    assert.equal(monitoredRunsIn(runs).length, 1, 'not-a-run is not a run');
    assert.equal(tiny.state, 'completed');
    assert.deepEqual(
      tiny.snapshots.map((s) => s.step),
      status.snapshots,
    );
    assert.ok(tiny.snapshots.every((s) => !s.problem));
    assert.equal(tiny.last?.trainLoss, lines.at(-1)!.trainLoss);
    assert.deepEqual(listRuns(runs), [], 'the built-in listing leaves monitored runs to monitored-runs.ts');

    // The script "running" with a fresh heartbeat: live while its process exists (this one), stopped when it is gone.
    const now = new Date().toISOString();
    writeFileSync(join(runs, 'tiny', 'run.json'), JSON.stringify({ ...status, status: 'running', heartbeatAt: now, pid: process.pid }));
    assert.equal(monitoredRunsIn(runs)[0].state, 'live');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(
      join(runs, 'tiny', 'run.json'),
      JSON.stringify({ ...status, status: 'running', heartbeatAt: now, pid: Number(dead.stdout) }),
    );
    assert.equal(monitoredRunsIn(runs)[0].state, 'stopped');

    // A snapshot cut short is listed with its problem; model code that moved makes the run one bad row.
    const last = tiny.snapshots.at(-1)!.path;
    truncateSync(last, 100);
    assert.match(monitoredRunsIn(runs)[0].snapshots.at(-1)!.problem ?? '', /partial or damaged/);
    rmSync(join(code, 'tiny_model.py'));
    const monitor = JSON.parse(readFileSync(join(runs, 'tiny', 'monitor.json'), 'utf8')) as { model: Record<string, unknown> };
    writeFileSync(
      join(runs, 'tiny', 'monitor.json'),
      JSON.stringify({ ...monitor, model: { ...monitor.model, relFile: 'gone.py', file: join(code, 'gone.py') } }),
    );
    const w = readWatchedFolder(runs);
    assert.equal(w.runs.length, 1);
    assert.match(w.runs[0].codeProblem!, /^the model code of run .*tiny has moved: TinyGRU was in .*gone\.py, which no longer exists/);
    const node = find(
      treeView(updateHostState(INITIAL_STATE, { type: 'monitoredListed', monitored: [], watched: [w] })),
      (n) => n.label === 'tiny',
    )!;
    assert.equal(node.children![0].label, w.runs[0].codeProblem, 'the problem is the run’s first row');
    assert.ok(node.children!.filter((c) => c.id.startsWith('snapshot:')).every((c) => c.contextValue === 'badSnapshot' && !c.command));
    writeFileSync(join(runs, 'tiny', 'monitor.json'), '{"format": "rnn-memory-monitor"');
    const broken = readWatchedFolder(runs).runs[0];
    assert.equal(broken.state, 'bad');
    assert.match(broken.problem!, /monitor\.json is not valid JSON$/);
    assert.deepEqual(readWatchedFolder(join(dir, 'nowhere')).runs, []);
    assert.match(readWatchedFolder(join(dir, 'nowhere')).problem!, /^cannot list .*nowhere: no such folder$/);
  },
);
