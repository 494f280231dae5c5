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
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (typeof o.step !== 'number') continue;
      const p: MetricsLine = { step: o.step };
      if (typeof o.trainLoss === 'number') p.trainLoss = o.trainLoss;
      if (typeof o.testLoss === 'number') p.testLoss = o.testLoss;
      if (typeof o.metric === 'number') p.metric = o.metric;
      out.push(p);
    } catch {
      // a line cut by a crash
    }
  }
  return out;
}
