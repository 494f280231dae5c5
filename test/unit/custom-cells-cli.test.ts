/** Custom cells across threads and processes: the time-limited probe worker and the CLI (train, diagnose). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { probeCustomCell } from '../../core/custom/cell-check';
import { CustomCellError } from '../../core/custom/source';
import type { Architecture } from '../../core/model/architecture';
import { RUN_FILES } from '../../core/train/run';
import type { TrainConfig } from '../../core/train/types';

const root = join(__dirname, '..', '..');
const fixture = (name: string) => join(root, 'test', 'fixtures', 'custom-cells', name);
const leakyTs = join(root, 'examples', 'cells', 'leaky-tanh.ts');

/** 1-based line and column of `needle` on the line containing `marker` in a file. */
function positionOf(file: string, marker: string, needle: string): { line: number; column: number } {
  const lines = readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(marker));
  assert.ok(i >= 0);
  return { line: i + 1, column: lines[i].indexOf(needle) + 1 };
}

test('the probe worker: an endless loop hits the time limit, a crash ends only the worker, errors keep their position', async () => {
  const t0 = Date.now();
  const [loop, crash, bad] = await Promise.allSettled([
    probeCustomCell(fixture('endless.ts'), { timeoutMs: 1500 }),
    probeCustomCell(fixture('crash.ts')),
    probeCustomCell(fixture('bad-step.ts')),
  ]);
  assert.equal(loop.status, 'rejected');
  assert.match(
    String((loop as PromiseRejectedResult).reason.message),
    /endless\.ts: loading the cell and a test step did not finish within 1\.5 s/,
  );
  assert.equal(crash.status, 'rejected');
  assert.match(String((crash as PromiseRejectedResult).reason.message), /crash\.ts: the cell's worker exited \(code 3\)/);
  assert.equal(bad.status, 'rejected');
  const e = (bad as PromiseRejectedResult).reason as unknown;
  const pos = positionOf(fixture('bad-step.ts'), '// BAD', 'matMul');
  assert.ok(e instanceof CustomCellError);
  assert.deepEqual([e.line, e.column], [pos.line, pos.column]);
  assert.ok(e.message.startsWith(`${fixture('bad-step.ts')}:${pos.line}:${pos.column}: step threw`), e.message);
  assert.ok(Date.now() - t0 < 60_000);
});

/** The CLI from the sources, in the repository folder (its workers load tsx from there); paths relative to it. */
function runCli(args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(root, 'core', 'cli', 'main.ts'), ...args], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, err });
    });
  });
}

test('CLI: train --cell FILE.ts trains in the worker and keeps a copy of the cell in the run; diagnose finds it from the model', async () => {
  const d = mkdtempSync(join(tmpdir(), 'custom-cells-cli-'));
  const rel = (p: string) => relative(root, join(d, p));
  try {
    copyFileSync(leakyTs, join(d, 'cell.ts'));
    const args = [
      '--task',
      'copy',
      '--T',
      '5',
      '--units',
      '6',
      '--layers',
      '2',
      '--batch',
      '8',
      '--steps',
      '20',
      '--eval-every',
      '10',
      '--test-size',
      '16',
    ];
    const train = await runCli(['train', ...args, '--cell', rel('cell.ts'), '--out', rel('run')]);
    assert.equal(train.code, 0, train.err);
    assert.match(train.err, /custom cell "leaky-tanh"/);
    const cfg = JSON.parse(readFileSync(join(d, 'run', RUN_FILES.config), 'utf8')) as TrainConfig;
    assert.equal(cfg.cell, 'custom');
    // Copied into the run folder: models may name only a cell inside their own folder.
    assert.equal(cfg.custom!.source, 'cell.ts');
    assert.equal(
      cfg.custom!.sha256,
      createHash('sha256')
        .update(readFileSync(join(d, 'cell.ts')))
        .digest('hex'),
    );
    assert.deepEqual(readFileSync(join(d, 'run', 'cell.ts')), readFileSync(join(d, 'cell.ts')));
    const diag = await runCli(['diagnose', '--model', rel(join('run', RUN_FILES.model)), '--out', rel('report.json'), '--quiet']);
    assert.equal(diag.code, 0, diag.err);
    assert.match(diag.err.split('\n')[0], /^engine: \w+ \(layers 1, 2: custom cell on its own runtime\)$/);
    const report = JSON.parse(readFileSync(join(d, 'report.json'), 'utf8')) as {
      model: { architecture: Architecture };
      gradientFlow: { layers: unknown[] };
    };
    assert.deepEqual(
      report.model.architecture.layers.map((l) => [l.cell, l.custom?.name]),
      [
        ['custom', 'leaky-tanh'],
        ['custom', 'leaky-tanh'],
      ],
    );
    assert.equal(report.gradientFlow.layers.length, 2);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
