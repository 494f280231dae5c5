/** Reads a run's metrics.jsonl (one JSON object per evaluation); a line cut by a crash is skipped. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES } from './run';

export interface MetricsLine {
  step: number;
  trainLoss?: number;
  testLoss?: number;
  metric?: number;
}

export function readMetricsFile(dir: string): MetricsLine[] {
  let text: string;
  try {
    text = readFileSync(join(dir, RUN_FILES.metrics), 'utf8');
  } catch {
    return [];
  }
  const out: MetricsLine[] = [];
  for (const line of text.split('\n')) {
    const p = parseMetricsLine(line);
    if (p) out.push(p);
  }
  return out;
}

/** One line of metrics.jsonl, or null for a blank, damaged or cut line. */
export function parseMetricsLine(line: string): MetricsLine | null {
  if (!line.trim()) return null;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    if (typeof o.step !== 'number') return null;
    const p: MetricsLine = { step: o.step };
    if (typeof o.trainLoss === 'number') p.trainLoss = o.trainLoss;
    if (typeof o.testLoss === 'number') p.testLoss = o.testLoss;
    if (typeof o.metric === 'number') p.metric = o.metric;
    return p;
  } catch {
    return null; // a line cut by a crash
  }
}
