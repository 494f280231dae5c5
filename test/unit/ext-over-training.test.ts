/**
 * diagnose_every end to end: the Monitor in a running script (train_tiny.py) starts the CLI on its diagnosed
 * snapshots; each diagnoses/step-N.json equals `rnn-memory diagnose --run DIR --step N`, and the host turns
 * them into the training panel's fraction-bistable points (mean over layers and steps, computed here too).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeConfig } from '../../core/train/config';
import { diagnosisPoints, reportFractionBistable, withDiagnoses } from '../../extension/over-training';
import { INITIAL_STATE, updateHostState } from '../../extension/store';
import { newSnapshot } from '../../shared/training-snapshot';
import { runCli } from '../helpers/cli';
import { skipWithoutPython, TORCH_FIXTURES, torchPython } from '../helpers/torch-python';

const root = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'over-training-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('fraction bistable of a report: the mean over layers of the mean over steps; bad reports give none', () => {
  const report = { bistability: { layers: [{ fractionBistable: [0, 0.5, 1] }, { fractionBistable: [0.25, 0.25] }] } };
  assert.equal(reportFractionBistable(report), (0.5 + 0.25) / 2);
  assert.equal(reportFractionBistable({ bistability: { layers: [{ fractionBistable: [] }] } }), undefined);
  assert.equal(reportFractionBistable({ bistability: { layers: [{ fractionBistable: ['x'] }] } }), undefined);
  assert.equal(reportFractionBistable(null), undefined);
});

test('diagnosed points join the followed snapshot by step; the same points again change nothing', () => {
  const s0 = newSnapshot('mon.0123456789abcdef', 'a', normalizeConfig({ task: 'copy' }), 30, [
    { step: 10, loss: 1 },
    { step: 30, loss: 0.5 },
  ]);
  const d = [
    { step: 10, fractionBistable: 0.1 },
    { step: 20, fractionBistable: 0.2 },
  ];
  const s1 = withDiagnoses(s0, d);
  assert.deepEqual(s1.points, [
    { step: 10, loss: 1, fractionBistable: 0.1 },
    { step: 20, fractionBistable: 0.2 },
    { step: 30, loss: 0.5 },
  ]);
  assert.equal(withDiagnoses(s1, d), s1);
  const followed = updateHostState(INITIAL_STATE, { type: 'monitorFollowed', snapshot: s0 });
  const next = updateHostState(followed, { type: 'monitorDiagnoses', runId: s0.runId, points: d });
  assert.deepEqual(next.followed.get(s0.runId)!.points, s1.points);
  assert.equal(updateHostState(next, { type: 'monitorDiagnoses', runId: s0.runId, points: d }), next);
});

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
  'diagnose_every writes reports equal to diagnose --run, and the host plots their fraction bistable against the step',
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
    // The host's points: each report's own per-step fractions, averaged here independently.
    const expected = names.map((n, i) => {
      const layers = (JSON.parse(readFileSync(join(reports, n), 'utf8')) as { bistability: { layers: { fractionBistable: number[] }[] } })
        .bistability.layers;
      const perLayer = layers.map((l) => l.fractionBistable.reduce((a, b) => a + b, 0) / l.fractionBistable.length);
      return { step: steps[i], fractionBistable: perLayer.reduce((a, b) => a + b, 0) / perLayer.length };
    });
    assert.deepEqual(diagnosisPoints(run).slice(0, 2), expected);
  },
);
