/**
 * The Runs tree's latest metrics, read incrementally (core/runs/last-metrics): after every append, cut at
 * random byte positions (mid-line, across the 1 MiB chunk), the summary equals one computed here from the
 * whole file; a replaced or truncated file is read afresh; an over-long line is skipped, not buffered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastMetrics } from '../../core/runs/last-metrics';
import type { MetricsLine } from '../../core/train/metrics-file';

const dir = mkdtempSync(join(tmpdir(), 'last-metrics-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The summary from the whole text, independently: every parseable line, the last unfinished one included. */
function expected(text: string): MetricsLine | undefined {
  let last: MetricsLine | undefined;
  for (const line of text.split('\n')) {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof o?.step !== 'number') continue;
    last = { ...last, step: o.step };
    for (const k of ['trainLoss', 'testLoss', 'metric'] as const) if (typeof o[k] === 'number') last[k] = o[k];
  }
  return last;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

test('appends cut anywhere: after each, the summary equals the whole file’s', () => {
  const run = join(dir, 'a');
  const file = join(run, 'metrics.jsonl');
  rmSync(run, { recursive: true, force: true });
  mkdirSync(run);
  const r = rng(7);
  let text = '';
  for (let step = 1; step <= 30000; step++) {
    const o: Record<string, unknown> = { step, trainLoss: r(), elapsedMs: step * 3, note: 'x'.repeat(Math.floor(r() * 40)) };
    if (step % 7 === 0) o.testLoss = r();
    if (step % 11 === 0) o.metric = r();
    text += JSON.stringify(o) + '\n';
    if (step === 1234) text += '{"step": 99, "trainLo\n'; // a line cut by a crash, then the writer went on
  }
  assert.ok(text.length > 2 * (1 << 20), 'the file crosses the read chunk');
  writeFileSync(file, '');
  assert.equal(lastMetrics(run), undefined);
  let at = 0;
  let checks = 0;
  while (at < text.length) {
    const n = Math.min(text.length - at, 1 + Math.floor(r() * (r() < 0.005 ? 1_500_000 : 400)));
    appendFileSync(file, text.slice(at, at + n));
    at += n;
    if (r() < 0.2 || at === text.length) {
      assert.deepEqual(lastMetrics(run), expected(text.slice(0, at)), `after ${at} bytes`);
      checks++;
    }
  }
  assert.ok(checks > 50, `${checks} checks`);
});

test('a replaced or truncated file is read from its start; an over-long line is skipped', () => {
  const run = join(dir, 'b');
  mkdirSync(run);
  const file = join(run, 'metrics.jsonl');
  writeFileSync(file, '{"step":1,"trainLoss":0.5,"metric":0.9}\n{"step":2,"trainLoss":0.4}\n');
  assert.deepEqual(lastMetrics(run), { step: 2, trainLoss: 0.4, metric: 0.9 });
  // Replaced (a resumed run rewrites the file: temp + rename), shorter than what was read.
  writeFileSync(join(run, 'tmp'), '{"step":1,"trainLoss":2}\n');
  renameSync(join(run, 'tmp'), file);
  assert.deepEqual(lastMetrics(run), { step: 1, trainLoss: 2 });
  // Truncated in place, then grown again.
  writeFileSync(file, '');
  assert.equal(lastMetrics(run), undefined);
  appendFileSync(file, `{"step":5,"trainLoss":1,"junk":"${'y'.repeat(200_000)}"}\n{"step":6,"testLoss":0.25}\n`);
  assert.deepEqual(lastMetrics(run), { step: 6, testLoss: 0.25 });
  rmSync(file);
  assert.equal(lastMetrics(run), undefined);
});
