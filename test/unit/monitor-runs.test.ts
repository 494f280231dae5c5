/**
 * The Python Monitor in a user's training script (test/fixtures/torch/monitor/train_tiny.py) and the CLI
 * that reads its runs: `rnn-memory runs` lists the run with the metrics the script logged and the
 * snapshots its keep policy leaves; `diagnose --run` reports exactly what diagnosing the same snapshot
 * through the bridge directly reports; a killed script leaves a readable run marked stopped; bad runs are
 * one clear line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRun } from '../../core/runs/list';
import { checkSnapshot, readMonitorInfo } from '../../core/runs/monitored';
import { runCli } from '../helpers/cli';
import { skipWithoutPython, TORCH_FIXTURES, torchPython } from '../helpers/torch-python';

const skip = skipWithoutPython('monitor-runs.test.ts');
const python = torchPython.python ?? 'python3';
const root = join(__dirname, '..', '..');
const SCRIPT = join(TORCH_FIXTURES, 'monitor', 'train_tiny.py');
const MODEL = join(TORCH_FIXTURES, 'monitor', 'tiny_model.py');
const env = { ...process.env, PYTHONPATH: join(root, 'python'), PYTHONDONTWRITEBYTECODE: '1' };
const dir = mkdtempSync(join(tmpdir(), 'monitor-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function train(run: string, args: string[] = []): { code: number | null; stderr: string } {
  const r = spawnSync(python, [SCRIPT, run, ...args], { env, encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

/** The metrics.jsonl lines as the script wrote them (parsed here, independently of core/train/metrics-file). */
function metricLines(run: string): Record<string, number>[] {
  return readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, number>);
}

/** The keep policy computed independently: snapshots at the first log and each multiple of `every`, then the last N plus every K-th. */
function expectedSnapshots(steps: number, every: number, keepLast: number, keepEvery?: number): number[] {
  const taken: number[] = [];
  for (let s = 1; s <= steps; s++)
    if (taken.length === 0 || Math.floor(s / every) > Math.floor(taken[taken.length - 1] / every)) taken.push(s);
  if (taken[taken.length - 1] !== steps) taken.push(steps); // close() snapshots the final step
  const last = taken.slice(-keepLast);
  return taken.filter((s) => last.includes(s) || (keepEvery !== undefined && Math.floor(s / every) % keepEvery === 0));
}

async function runsJson(path: string): Promise<Record<string, unknown>[]> {
  const r = await runCli(['runs', path, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const run = join(dir, 'runs', 'tiny');

test('the script with a Monitor writes a run that `rnn-memory runs` lists with its metrics and snapshots', { skip }, async () => {
  const r = train(run, ['--steps', '40', '--every', '10', '--keep-last', '2', '--keep-every', '2']);
  assert.equal(r.code, 0, r.stderr);
  const [listed] = await runsJson(join(dir, 'runs'));
  const lines = metricLines(run);
  assert.deepEqual(
    lines.map((l) => l.step),
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
  const lastMetric = lines.filter((l) => l.metric !== undefined).at(-1)!;
  assert.equal(listed.kind, 'monitored');
  assert.equal(listed.state, 'completed');
  assert.equal(listed.step, 40);
  assert.equal(listed.metricName, 'mse');
  assert.deepEqual(listed.last, { step: 40, trainLoss: lines[39].trainLoss, metric: lastMetric.metric });
  const snaps = (listed.snapshots as { step: number; file: string }[]).map((s) => s.step);
  assert.deepEqual(snaps, expectedSnapshots(40, 10, 2, 2));
  assert.deepEqual(snaps, [1, 20, 30, 40]);
  // The text table says the same.
  const text = await runCli(['runs', join(dir, 'runs')]);
  assert.match(
    text.stdout,
    /^tiny {2}monitored {2}completed {2}step 40 {2}last loss \S+, mse \S+ {2}4 snapshots \(steps 1, 20, 30, 40\)$/m,
  );
  // The factory was inferred from the model's class, with the given arguments.
  const info = readMonitorInfo(run)!;
  assert.equal(info.model.name, 'TinyGRU');
  assert.equal(info.model.file, MODEL);
  assert.deepEqual(info.model.args, { n_hidden: 8 });
  assert.deepEqual(info.task, { name: 'copy', T: 6 });
});

test('the keep policy: only the last N without keep_every', { skip }, () => {
  const other = join(dir, 'policy');
  const r = train(other, ['--steps', '37', '--every', '5', '--keep-last', '3']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    describeRun(other)!.snapshots.map((s) => s.step),
    expectedSnapshots(37, 5, 3),
  );
  assert.deepEqual(expectedSnapshots(37, 5, 3), [30, 35, 37]); // the final step is always snapshotted by close()
});

const DIAG = [
  '--batch',
  '6',
  '--retention-batch',
  '8',
  '--probe-train',
  '16',
  '--memory-batch',
  '8',
  '--fixed-point-starts',
  '8',
  '--quiet',
];

test('diagnose --run equals diagnosing the same snapshot through the bridge directly', { skip }, async () => {
  const viaRun = join(dir, 'via-run.json');
  const direct = join(dir, 'direct.json');
  const a = await runCli(['diagnose', '--run', run, '--step', '30', '--python', python, ...DIAG, '--out', viaRun]);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stderr, /^run .*tiny: step 30 \(.*step-00000030\.safetensors\)$/m);
  const weights = join(run, 'snapshots', 'step-00000030.safetensors');
  const b = await runCli([
    'diagnose',
    '--torch',
    `${MODEL}:TinyGRU`,
    '--weights',
    weights,
    '--torch-args',
    '{"n_hidden": 8}',
    '--task',
    'copy',
    '--T',
    '6',
    '--python',
    python,
    ...DIAG,
    '--out',
    direct,
  ]);
  assert.equal(b.code, 0, b.stderr);
  const strip = (p: string) => {
    const o = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
    delete o.timings;
    delete o.createdAt; // when each report was written
    // A bridged cell's sha256 keys its registration in one helper session, not its content.
    const layers = (o.model as { architecture: { layers: { custom?: { sha256?: string } }[] } }).architecture.layers;
    for (const l of layers) delete l.custom?.sha256;
    return o;
  };
  const x = strip(viaRun);
  assert.deepEqual(x, strip(direct));
  // The run's task (copy, T = 6) was used without --task.
  assert.equal((x.input as { T: number }).T, 6);
});

test('bad runs get one clear line: not a run, no such step, a partial snapshot, model code moved', { skip }, async () => {
  const one = async (args: string[]) => {
    const r = await runCli(args);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+|Traceback/);
    return lines[lines.length - 1];
  };
  assert.match(
    await one(['diagnose', '--run', TORCH_FIXTURES]),
    /^rnn-memory: .*torch is not a run \(a run folder has run\.json or config\.json\)$/,
  );
  assert.match(
    await one(['diagnose', '--run', run, '--step', '7']),
    /^rnn-memory: run .*tiny has no snapshot at step 7 \(it has steps 1, 20, 30, 40\)$/,
  );

  const cut = join(dir, 'runs', 'cut');
  cpSync(run, cut, { recursive: true });
  const snap = join(cut, 'snapshots', 'step-00000040.safetensors');
  truncateSync(snap, Math.floor(readFileSync(snap).length / 2));
  assert.match(
    await one(['diagnose', '--run', cut]),
    /^rnn-memory: snapshot .*step-00000040\.safetensors is partial or damaged \(.*\); choose another --step$/,
  );

  const moved = join(dir, 'runs', 'moved');
  cpSync(run, moved, { recursive: true });
  const mon = JSON.parse(readFileSync(join(moved, 'monitor.json'), 'utf8')) as { model: { file: string; relFile: string } };
  mon.model.file = join(dir, 'gone', 'tiny_model.py');
  mon.model.relFile = '../../gone/tiny_model.py';
  writeFileSync(join(moved, 'monitor.json'), JSON.stringify(mon));
  assert.match(
    await one(['diagnose', '--run', moved]),
    /^rnn-memory: the model code of run .*moved has moved: TinyGRU was in .*gone\/tiny_model\.py, which no longer exists \(put the file back, or edit model\.file in .*monitor\.json\)$/,
  );

  // Listing never fails on them: a damaged run.json is listed as bad with its reason.
  writeFileSync(join(moved, 'run.json'), '{"status": ');
  const listed = await runsJson(join(dir, 'runs'));
  const bad = listed.find((r) => r.name === 'moved')!;
  assert.equal(bad.state, 'bad');
  assert.match(bad.problem as string, /run\.json is not valid JSON$/);
  assert.equal(listed.find((r) => r.name === 'cut')!.state, 'completed');
});

test('an exception in the script marks the run failed with its message', { skip }, async () => {
  const failed = join(dir, 'failed');
  const r = train(failed, ['--steps', '30', '--fail-at', '12']);
  assert.notEqual(r.code, 0);
  const [listed] = await runsJson(failed);
  assert.equal(listed.state, 'failed');
  assert.equal(listed.error, 'RuntimeError: diverged at step 12');
  assert.equal(listed.step, 11);
});

function waitFor(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) resolve();
      else if (Date.now() - t0 > ms) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

function exited(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve() : p.once('exit', () => resolve())));
}

test('live while the script runs; SIGKILL at random moments mid-write leaves a readable run marked stopped', { skip }, async () => {
  for (let i = 0; i < 8; i++) {
    const killed = join(dir, `killed-${i}`);
    // Every step logs and snapshots (every=1): files are being written at almost any moment of the kill.
    const p = spawn(python, [SCRIPT, killed, '--steps', '100000', '--every', '1', '--keep-last', '3', '--heartbeat', '0.2'], {
      env,
      stdio: 'ignore',
    });
    try {
      await waitFor(
        'the first snapshot',
        () => describeRun(killed)?.snapshots.length !== undefined && describeRun(killed)!.snapshots.length > 0,
      );
      assert.equal(describeRun(killed)!.state, 'live');
      await new Promise((r) => setTimeout(r, Math.random() * 400));
    } finally {
      p.kill('SIGKILL');
      await exited(p);
    }
    const after = describeRun(killed)!;
    assert.equal(after.state, 'stopped', `kill ${i}`);
    assert.ok(after.snapshots.length >= 1 && after.snapshots.length <= 3, `kill ${i}: ${after.snapshots.length} snapshots`);
    for (const s of after.snapshots) checkSnapshot(s.path); // every listed snapshot is whole
    JSON.parse(readFileSync(join(killed, 'run.json'), 'utf8'));
    JSON.parse(readFileSync(join(killed, 'monitor.json'), 'utf8'));
    const text = readFileSync(join(killed, 'metrics.jsonl'), 'utf8');
    const lines = text.split('\n');
    // Whole lines only, except perhaps one cut at the very end.
    for (const l of lines.slice(0, -1)) JSON.parse(l);
    assert.ok(existsSync(join(killed, 'snapshots')));
    const listed = await runCli(['runs', killed]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, / stopped /);
  }
});
