/**
 * The latest train loss, test loss and test metric of a run (each from the last line that has it) at its
 * last step, read incrementally: a run that is listed again (the Runs tree re-lists every few seconds while a
 * script appends) reads only the bytes appended since, in bounded chunks, so a long or hostile metrics.jsonl
 * costs neither time nor memory. A file that shrank or was replaced is read again from the start.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { parseMetricsLine, type MetricsLine } from '../train/metrics-file';
import { RUN_FILES } from '../train/run';

const CHUNK = 1 << 20;
/** A line longer than this is no metrics line: it is skipped up to its end. */
const MAX_LINE = 1 << 16;

interface Tail {
  ino: number;
  dev: number;
  /** Bytes consumed (up to the end of the last complete line). */
  offset: number;
  /** An unfinished last line's bytes, or null while skipping an over-long line. */
  partial: Buffer | null;
  last: MetricsLine | undefined;
}

const tails = new Map<string, Tail>();
const MAX_TAILS = 1000;

function fold(t: Tail, line: string): void {
  const p = parseMetricsLine(line);
  if (!p) return;
  const last: MetricsLine = { ...t.last, step: p.step };
  if (p.trainLoss !== undefined) last.trainLoss = p.trainLoss;
  if (p.testLoss !== undefined) last.testLoss = p.testLoss;
  if (p.metric !== undefined) last.metric = p.metric;
  t.last = last;
}

/** `dir`'s metrics summary, or undefined when it has no readable metrics line. */
export function lastMetrics(dir: string): MetricsLine | undefined {
  const path = join(dir, RUN_FILES.metrics);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    tails.delete(path);
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    let t = tails.get(path);
    if (!t || t.ino !== st.ino || t.dev !== st.dev || st.size < t.offset) {
      t = { ino: st.ino, dev: st.dev, offset: 0, partial: Buffer.alloc(0), last: undefined };
      if (tails.size >= MAX_TAILS) tails.clear();
      tails.set(path, t);
    }
    const buf = Buffer.allocUnsafe(CHUNK);
    while (t.offset < st.size) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, st.size - t.offset), t.offset);
      if (n <= 0) break;
      t.offset += n;
      let start = 0;
      for (let nl = buf.indexOf(10, 0); nl !== -1 && nl < n; nl = buf.indexOf(10, start)) {
        if (t.partial && t.partial.length + nl - start <= MAX_LINE) fold(t, Buffer.concat([t.partial, buf.subarray(start, nl)]).toString('utf8'));
        t.partial = Buffer.alloc(0);
        start = nl + 1;
      }
      if (t.partial && start < n) {
        const rest = buf.subarray(start, n);
        t.partial = t.partial.length + rest.length > MAX_LINE ? null : Buffer.concat([t.partial, rest]);
      }
    }
    // A last line without its newline may be complete (a writer that ends without one) or cut: try it.
    if (t.partial && t.partial.length) {
      const saved = t.last;
      fold(t, t.partial.toString('utf8'));
      const withTail = t.last;
      t.last = saved;
      return withTail;
    }
    return t.last;
  } finally {
    closeSync(fd);
  }
}
