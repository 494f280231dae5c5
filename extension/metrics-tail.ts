/**
 * Follows a metrics.jsonl that another process appends to (the Monitor, one whole line per write): each read
 * returns only the lines added since the last one, so a panel following a long run reads each byte once. A
 * line not yet ended waits for its newline; a file that shrank (replaced, resumed elsewhere) is read again.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { MetricsLine } from '../core/train/metrics-file';
import type { TrainingPoint } from '../shared/protocol';

/** Most bytes read per call: a huge backlog is read over several ticks rather than in one blocking read. */
const MAX_READ = 8 << 20;

/** One metrics line (untrusted) → MetricsLine, or null for anything that is not one. */
export function parseMetricsLine(text: string): MetricsLine | null {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null) return null;
  const r = o as Record<string, unknown>;
  if (typeof r.step !== 'number' || !Number.isFinite(r.step)) return null;
  const out: MetricsLine = { step: r.step };
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (num(r.trainLoss)) out.trainLoss = r.trainLoss as number;
  if (num(r.testLoss)) out.testLoss = r.testLoss as number;
  if (num(r.metric)) out.metric = r.metric as number;
  return out;
}

/** Training-panel points of metrics lines (a line with no number adds nothing). */
export function metricsToPoints(lines: readonly MetricsLine[]): TrainingPoint[] {
  const out: TrainingPoint[] = [];
  for (const m of lines) {
    const p: TrainingPoint = { step: m.step };
    if (m.trainLoss !== undefined) p.loss = m.trainLoss;
    if (m.testLoss !== undefined) p.testLoss = m.testLoss;
    if (m.metric !== undefined) p.metric = m.metric;
    if (Object.keys(p).length > 1) out.push(p);
  }
  return out;
}

export class MetricsTail {
  private offset = 0;
  private pending = Buffer.alloc(0);
  /** Bytes read so far, for tests: the next read starts here. */
  get position(): number {
    return this.offset;
  }

  constructor(readonly path: string) {}

  /** The whole lines appended since the previous call (all of them on the first call); [] when there are none. */
  read(): MetricsLine[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return [];
    }
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) {
        this.offset = 0;
        this.pending = Buffer.alloc(0);
      }
      const n = Math.min(size - this.offset, MAX_READ);
      if (n <= 0) return [];
      const buf = Buffer.alloc(n);
      const got = readSync(fd, buf, 0, n, this.offset);
      this.offset += got;
      const data = Buffer.concat([this.pending, buf.subarray(0, got)]);
      const end = data.lastIndexOf(0x0a);
      this.pending = end < 0 ? data : data.subarray(end + 1);
      if (end < 0) return [];
      const out: MetricsLine[] = [];
      for (const line of data.subarray(0, end).toString('utf8').split('\n')) {
        const m = line.trim() ? parseMetricsLine(line) : null;
        if (m) out.push(m);
      }
      return out;
    } finally {
      closeSync(fd);
    }
  }
}
