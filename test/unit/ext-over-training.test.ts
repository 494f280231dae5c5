/**
 * diagnose_every end to end: the Monitor in a running script (train_tiny.py) starts the CLI on its diagnosed
 * snapshots; each diagnoses/step-N.json equals `rnn-memory diagnose --run DIR --step N`, and the host turns
 * them into the Over-training view's headline numbers (computed here too, from the same files).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeConfig } from '../../core/train/config';
import { diagnosedSteps, reportHeadlines, withDiagnoses } from '../../extension/over-training';
import type { DiagnosedStep } from '../../shared/protocol';
import { INITIAL_STATE, updateHostState } from '../../extension/store';
import { newSnapshot } from '../../shared/training-snapshot';
import { runCli } from '../helpers/cli';
import { skipWithoutPython, TORCH_FIXTURES, torchPython } from '../helpers/torch-python';

const root = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'over-training-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('headline numbers of a report: per-layer fraction bistable and end ratio, recall at the longest delay over chance, carriers', () => {
  const report = {
    bistability: { layers: [{ fractionBistable: [0, 0.5, 1] }, { fractionBistable: [0.25, 0.25] }] },
    gradientFlow: {
      layers: [
        { decay: { endRatio: { value: 0.01, lo: 0.005, hi: 0.02 } } },
        // JSON writes an infinite interval end as null: read back as an open end.
        { decay: { endRatio: { value: 3, lo: null, hi: null } } },
      ],
    },
    retention: {
      delays: [50, 5, 20],
      mse: [0.8, 0.1, 0.4],
      mseEstimate: [{ value: 0.8, lo: 0.6, hi: 1.0 }, {}, {}],
      chance: { value: 2 },
    },
    memory: { total: 7 },
  };
  assert.deepEqual(reportHeadlines(report, 40), {
    step: 40,
    fractionBistable: [0.5, 0.25],
    gradientEndRatio: [
      { value: 0.01, lo: 0.005, hi: 0.02 },
      { value: 3, lo: 0, hi: Infinity },
    ],
    retention: { delay: 50, value: 0.4, lo: 0.3, hi: 0.5 },
    memoryCarriers: 7,
  });
  // Older or partial reports: what is missing is null, never a guess.
  assert.deepEqual(reportHeadlines({ bistability: { layers: [{ fractionBistable: [] }, { fractionBistable: ['x'] }] } }, 1), {
    step: 1,
    fractionBistable: [null, null],
    gradientEndRatio: [],
    retention: null,
    memoryCarriers: null,
  });
  assert.deepEqual(reportHeadlines({ bistability: { layers: [] }, retention: { delays: [9], mse: [0.5] } }, 2)?.retention, {
    delay: 9,
    value: 0.5,
    lo: 0,
    hi: Infinity,
  });
  assert.equal(reportHeadlines(null, 1), undefined);
  assert.equal(reportHeadlines({ bistability: {} }, 1), undefined);
});

test('diagnosed steps join the followed snapshot; the same steps again change nothing', () => {
  const s0 = newSnapshot('mon.0123456789abcdef', 'a', normalizeConfig({ task: 'copy' }), 30, [
    { step: 10, loss: 1 },
    { step: 30, loss: 0.5 },
  ]);
  const d: DiagnosedStep[] = [10, 20].map((step) => ({
    step,
    fractionBistable: [step / 100],
    gradientEndRatio: [null],
    retention: null,
    memoryCarriers: 1,
  }));
  const s1 = withDiagnoses(s0, d);
  assert.deepEqual(s1.diagnosed, d);
  assert.equal(s1.points, s0.points);
  assert.equal(withDiagnoses(s1, d.slice()), s1);
  const followed = updateHostState(INITIAL_STATE, { type: 'monitorFollowed', snapshot: s0 });
  const next = updateHostState(followed, { type: 'monitorDiagnoses', runId: s0.runId, steps: d });
  assert.deepEqual(next.followed.get(s0.runId)!.diagnosed, d);
  assert.equal(updateHostState(next, { type: 'monitorDiagnoses', runId: s0.runId, steps: d }), next);
});

interface TinyReport {
  bistability: { layers: { fractionBistable: number[] }[] };
  gradientFlow: { layers: { decay: { endRatio: { value: number } } }[] };
  retention: { delays: number[]; mse: number[]; chance: { value: number } };
  memory: { total: number };
}

function independentHeadlines(r: TinyReport) {
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const last = r.retention.delays.indexOf(Math.max(...r.retention.delays));
  return {
    fractionBistable: r.bistability.layers.map((l) => avg(l.fractionBistable)),
    endRatio: r.gradientFlow.layers.map((l) => l.decay.endRatio.value),
    retention: r.retention.mse[last] / r.retention.chance.value,
    carriers: r.memory.total,
  };
}

async function waitFor(what: string, fn: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** What differs between two diagnoses of the same weights: when, how long, and a bridged cell's sha256 (it keys the cell's registration in one helper session, not its content). */
function strip(o: unknown): unknown {
  if (Array.isArray(o)) return o.map(strip);
  if (typeof o !== 'object' || o === null) return o;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (k !== 'createdAt' && k !== 'timings' && k !== 'sha256') out[k] = strip(v);
  return out;
}

test(
  'diagnose_every writes reports equal to diagnose --run, and the host reads their headline numbers for the Over-training view',
  { skip: skipWithoutPython('ext-over-training.test.ts'), timeout: 900_000 },
  async () => {
    const python = torchPython.python!;
    const run = join(dir, 'run');
    const reports = join(run, 'diagnoses');
    const script = spawn(
      python,
      [
        join(TORCH_FIXTURES, 'monitor', 'train_tiny.py'),
        run,
        '--steps',
        '100000',
        '--every',
        '10',
        '--diagnose-every',
        '20',
        '--sleep',
        '0.05',
      ],
      {
        env: {
          ...process.env,
          PYTHONPATH: join(root, 'python'),
          PYTHONDONTWRITEBYTECODE: '1',
          RNN_MEMORY_CLI: `node ${join(root, 'dist', 'cli.js')}`,
        },
        stdio: 'ignore',
      },
    );
    const done = () => (existsSync(reports) ? readdirSync(reports).filter((n) => /^step-\d+\.json$/.test(n)) : []);
    try {
      // Diagnoses run one at a time in the background while the script trains: wait for two.
      await waitFor('two diagnoses', () => done().length >= 2, 600_000);
    } finally {
      script.kill('SIGKILL');
    }
    const names = done().sort().slice(0, 2);
    const steps = names.map((n) => Number(/(\d+)/.exec(n)![1]));
    assert.deepEqual(steps, [1, 20], 'the first snapshot, then the first of each diagnose_every steps');
    for (const [i, step] of steps.entries()) {
      const out = join(dir, `cli-${step}.json`);
      const r = await runCli(['diagnose', '--run', run, '--step', String(step), '--python', python, '--out', out, '--quiet']);
      assert.equal(r.code, 0, r.stderr);
      const written: unknown = JSON.parse(readFileSync(join(reports, names[i]), 'utf8'));
      assert.deepEqual(strip(written), strip(JSON.parse(readFileSync(out, 'utf8'))));
    }
    // The host's steps: each report's numbers, read here independently of the host's reader.
    const expected = names.map((n, i) => {
      const r = JSON.parse(readFileSync(join(reports, n), 'utf8')) as TinyReport;
      return { step: steps[i], ...independentHeadlines(r) };
    });
    const got = diagnosedSteps(run).slice(0, 2);
    assert.deepEqual(
      got.map((g) => ({
        step: g.step,
        fractionBistable: g.fractionBistable,
        endRatio: g.gradientEndRatio.map((e) => e?.value),
        retention: g.retention?.value,
        carriers: g.memoryCarriers,
      })),
      expected,
    );
    // The copy task is diagnosed, so recall and carriers are there (not silently null).
    assert.ok(
      got.every((g) => g.retention !== null && g.memoryCarriers !== null),
      JSON.stringify(got),
    );
  },
);

test(
  'diagnoses still queued when the script ends run after it, in a detached process: none is dropped',
  { skip: skipWithoutPython('ext-over-training.test.ts'), timeout: 600_000 },
  async () => {
    const run = join(dir, 'ended');
    const reports = join(run, 'diagnoses');
    const started = Date.now();
    const r = spawnSync(
      torchPython.python!,
      [join(TORCH_FIXTURES, 'monitor', 'train_tiny.py'), run, '--steps', '40', '--every', '10', '--diagnose-every', '20'],
      {
        env: {
          ...process.env,
          PYTHONPATH: join(root, 'python'),
          PYTHONDONTWRITEBYTECODE: '1',
          RNN_MEMORY_CLI: `node ${join(root, 'dist', 'cli.js')}`,
        },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const done = () =>
      existsSync(reports)
        ? readdirSync(reports)
            .filter((n) => /^step-\d+\.json$/.test(n))
            .sort()
        : [];
    // The script trains 40 tiny steps in about a second; three diagnoses take longer, so some were still queued.
    const atExit = done().length;
    assert.ok(
      atExit < 3,
      `all three diagnoses were written before the script ended (${Date.now() - started} ms): the hand-over is not exercised`,
    );
    await waitFor('the three diagnoses', () => done().length === 3, 240_000);
    assert.deepEqual(done(), ['step-00000001.json', 'step-00000020.json', 'step-00000040.json']);
    for (const n of done()) {
      const report = JSON.parse(readFileSync(join(reports, n), 'utf8')) as { bistability: { layers: unknown[] } };
      assert.equal(report.bistability.layers.length, 2, n); // TinyGRU's two cells
    }
    const status = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')) as { status: string };
    assert.equal(status.status, 'completed');
  },
);
