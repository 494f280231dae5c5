import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DiagnosticReport } from '../../core/diagnostics/types';
import { resolveEngine } from '../../core/engine/index';
import { saveModel } from '../../core/model/model-file';
import { runCli } from '../helpers/cli';
import { makeModel } from '../helpers/diag-models';

const dir = mkdtempSync(join(tmpdir(), 'diag-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const modelPath = join(dir, 'm.safetensors');
saveModel(
  modelPath,
  makeModel(
    [
      { cell: 'nbrc', units: 4 },
      { cell: 'gru', units: 3 },
    ],
    { seed: 4, task: { name: 'copy', T: 10 } },
  ),
);

test('diagnose --task copy writes a report whose contract paths have the right shapes', async () => {
  const out = join(dir, 'r.json');
  const res = await runCli(['diagnose', '--model', modelPath, '--task', 'copy', '--T', '12', '--batch', '8', '--seed', '2', '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  const r = JSON.parse(readFileSync(out, 'utf8')) as DiagnosticReport;
  assert.equal(r.model.name, 'm');
  assert.deepEqual([r.input.source, r.input.task, r.input.T, r.input.B, r.input.seed], ['task', 'copy', 12, 8, 2]);
  for (const [l, H] of [
    [0, 4],
    [1, 3],
  ]) {
    const b = r.bistability.layers[l];
    assert.equal(b.a.length, 12);
    assert.equal(b.a[11].length, H);
    assert.equal(b.bistable[3].length, H);
    assert.equal(b.fractionBistable.length, 12);
    assert.equal(r.gradientFlow.layers[l].norm.length, 12);
    assert.equal(r.retention!.probe.layers[l].r2.length, r.retention!.probe.times!.length);
  }
  assert.ok(r.fixedPoints.points.length > 0);
  assert.ok(typeof r.fixedPoints.points[0].stability === 'string');
  // The diagnosis is printed, one sentence per line, then a summary line.
  for (const s of r.diagnosis) assert.ok(res.stderr.includes(s.text));
  assert.match(res.stderr, /diagnosed in .* wrote .*r\.json/);
});

test('diagnose --input (targets default to x_1 for a copy model), to stdout, and --html', async () => {
  const input = join(dir, 'in.json');
  writeFileSync(
    input,
    JSON.stringify({
      x: [
        [[0.5], [1], [-1]],
        [[2], [0], [1]],
      ],
    }),
  );
  const res = await runCli(['diagnose', '--model', modelPath, '--input', input, '--sections', 'bistability,gradientFlow', '--quiet']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stderr, `engine: ${resolveEngine('fast')}\n`, 'only the engine line: --quiet prints no sentences');
  const r = JSON.parse(res.stdout) as DiagnosticReport;
  assert.equal(r.input.source, 'file');
  assert.equal(r.input.T, 3);
  assert.equal(r.input.B, 2);
  assert.deepEqual(r.sections, ['bistability', 'gradientFlow']);
  assert.equal(r.retention, null);
  assert.equal(r.bistability.layers[0].h.length, 3);

  const html = join(dir, 'r.html');
  const h = await runCli(['diagnose', '--model', modelPath, '--input', input, '--html', html, '--quiet']);
  assert.equal(h.code, 0, h.stderr);
  assert.ok(existsSync(html));
  assert.match(readFileSync(html, 'utf8'), /^<!DOCTYPE html>/);
});

test('diagnose errors: one clear line and a non-zero exit', async () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ x: [[[1], [2]], [[3]]] }));
  const cases: [string[], number, RegExp][] = [
    [['diagnose', '--model', modelPath, '--input', bad], 1, /x\[1\] has 1 time steps, expected 2/],
    [['diagnose', '--model', modelPath, '--input', join(dir, 'missing.json')], 1, /cannot read .*missing\.json/],
    [['diagnose', '--model', join(dir, 'nope.safetensors')], 1, /nope\.safetensors/],
    [['diagnose', '--model', modelPath, '--input', bad, '--T', '5'], 2, /--input cannot be combined/],
    [['diagnose', '--model', modelPath, '--task', 'maze'], 2, /--task must be copy, denoise or smnist/],
    [['diagnose', '--model', modelPath, '--sections', 'bistability,foo'], 2, /unknown section "foo"/],
    [['diagnose', '--model', modelPath, '--layer', '7', '--T', '4', '--batch', '2'], 1, /layer 7 does not exist/],
    [['diagnose', '--model', modelPath, '--bogus', '1'], 2, /unknown flag --bogus/],
    [['diagnose'], 2, /diagnose needs --model/],
  ];
  for (const [args, code, msg] of cases) {
    const res = await runCli(args);
    assert.equal(res.code, code, `${args.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr, msg);
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    assert.match(res.stderr, /^rnn-memory: /);
  }
});

test('diagnose --jacobian-sequences / --jacobian-probes set the Jacobian-norm estimate; bad values are one-line usage errors', async () => {
  const res = await runCli([
    'diagnose',
    '--model',
    modelPath,
    '--T',
    '8',
    '--batch',
    '10',
    '--sections',
    'gradientFlow',
    '--jacobian-sequences',
    '7',
    '--jacobian-probes',
    '2',
    '--quiet',
  ]);
  assert.equal(res.code, 0, res.stderr);
  const r = JSON.parse(res.stdout) as DiagnosticReport;
  assert.equal(r.gradientFlow.jacobianSequences, 7);
  assert.equal(r.gradientFlow.probes, 2);
  for (const g of r.gradientFlow.layers) {
    assert.equal(g.jacobian!.length, 8);
    assert.equal(g.jacobian![0].n, 7);
    assert.equal(g.jacobianLowerBound, true);
  }
  for (const flag of ['--jacobian-sequences', '--jacobian-probes']) {
    const bad = await runCli(['diagnose', '--model', modelPath, flag, '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, new RegExp(`^rnn-memory: ${flag} must be a positive integer \\(got 0\\)\\n$`));
  }
});

test('diagnose --retention-batch / --probe-train size the retention batch and the probe; too small is one clear line', async () => {
  const out = join(dir, 'ret.json');
  const res = await runCli([
    'diagnose',
    '--model',
    modelPath,
    '--T',
    '6',
    '--batch',
    '4',
    '--sections',
    'retention',
    '--retention-batch',
    '40',
    '--probe-train',
    '24',
    '--out',
    out,
    '--quiet',
  ]);
  assert.equal(res.code, 0, res.stderr);
  const r = JSON.parse(readFileSync(out, 'utf8')) as DiagnosticReport;
  assert.equal(r.retention!.probe.testSequences, 40);
  assert.equal(r.retention!.probe.trainSequences, 24);
  assert.ok(r.retention!.mseEstimate!.every((e) => e.n === 40));
  assert.equal(r.retention!.chance!.n, 40);
  for (const [flag, v, msg] of [
    ['--retention-batch', '4', /--retention-batch must be at least 8 \(got 4\)/],
    ['--probe-train', '2', /--probe-train must be at least 4 \(got 2\)/],
  ] as const) {
    const bad = await runCli(['diagnose', '--model', modelPath, flag, v]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, msg);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  }
});
