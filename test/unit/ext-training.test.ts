import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeConfig } from '../../core/train/config';
import { RUN_FILES } from '../../core/train/run';
import { listRuns } from '../../extension/runs';
import { TrainingManager } from '../../extension/training-manager';
import type { TrainingSnapshot } from '../../shared/protocol';
import { reduceTrainEvent } from '../../shared/training-snapshot';
import type { LiveRun } from '../../extension/training-manager';

const cfg = normalizeConfig({
  task: 'copy',
  cell: 'gru',
  T: 8,
  layers: 1,
  units: 6,
  batch: 8,
  steps: 100,
  evalEvery: 25,
  testSize: 32,
  checkpointEvery: 10,
  engine: 'reference',
});

/** Folds each run's events into its snapshot, as the host store does (the manager keeps no snapshot). */
function snapshots(m: TrainingManager): (r: LiveRun) => TrainingSnapshot {
  const byId = new Map<string, TrainingSnapshot>();
  m.onEvent((r, e) => byId.set(r.id, reduceTrainEvent(byId.get(r.id) ?? r.initial, e)));
  return (r) => byId.get(r.id) ?? r.initial;
}

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ext-mgr-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('TrainingManager: a run trains in a worker, reports events, saves its folder; stop and resume work', async () => {
  await withDir(async (runs) => {
    const m = new TrainingManager({ progressIntervalMs: 20 });
    const snap = snapshots(m);
    const seen: string[] = [];
    m.onEvent((_r, e) => seen.push(e.type));
    const ends: string[] = [];
    m.onEnd((r, res) => ends.push(`${r.id}:${res.done?.reason ?? res.error?.message}`));

    const a = m.start(runs, cfg);
    assert.deepEqual([...m.liveIds()], [a.id]);
    const ra = await a.finished;
    assert.equal(ra.done?.reason, 'completed');
    assert.equal(snap(a).status, 'completed');
    assert.equal(snap(a).step, 100);
    assert.ok(seen.includes('progress') && seen.includes('eval') && seen.includes('done'));
    assert.equal(JSON.parse(readFileSync(join(a.dir, RUN_FILES.status), 'utf8')).status, 'completed');
    assert.ok(existsSync(join(a.dir, RUN_FILES.model)));
    assert.equal(m.liveIds().size, 0);

    const long = { ...cfg, steps: 1_000_000 };
    const b = m.start(runs, long);
    assert.notEqual(b.id, a.id);
    while (snap(b).step < 20) await new Promise((r) => setTimeout(r, 20));
    assert.equal(m.stop(b.id), 1);
    const rb = await b.finished;
    assert.equal(rb.done?.reason, 'cancelled');
    const stoppedAt = rb.done!.step;
    const info = listRuns(runs).find((r) => r.id === b.id)!;
    assert.equal(info.state, 'cancelled');
    assert.equal(info.resumable, true);

    const c = m.resume(runs, b.id, stoppedAt + 15);
    assert.equal(c.initial.status, 'running');
    assert.ok(c.initial.points.length > 0, 'the resumed snapshot starts from the saved curve');
    const rc = await c.finished;
    assert.equal(rc.done?.reason, 'completed');
    assert.equal(rc.done?.step, stoppedAt + 15);
    assert.deepEqual(ends, [`${a.id}:completed`, `${b.id}:cancelled`, `${b.id}:completed`]);
    assert.throws(() => m.resume(runs, 'no-such-run'), /no run named/);
    await m.dispose();
  });
});

test('TrainingManager: a killed worker ends the run with a clear error and leaves it resumable', async () => {
  await withDir(async (runs) => {
    const m = new TrainingManager({ progressIntervalMs: 20 });
    const r = m.start(runs, { ...cfg, steps: 1_000_000 });
    while (!existsSync(join(r.dir, RUN_FILES.checkpoint))) await new Promise((res) => setTimeout(res, 20));
    await r.handle.kill();
    const res = await r.finished;
    assert.match(res.error?.message ?? '', /exited unexpectedly.*checkpoint/);
    const info = listRuns(runs).find((x) => x.id === r.id)!;
    assert.equal(info.state, 'interrupted');
    assert.equal(info.resumable, true);
    await m.dispose();
  });
});
