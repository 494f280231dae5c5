/**
 * The Monitor's `diagnose_every` diagnoses (diagnoses/step-N.json, each a full `rnn-memory diagnose --run`
 * report) as training-panel points: the fraction of bistable neuron-steps (a > 1, mean over the layers and
 * the time steps) at each diagnosed step, which the training panel draws against the step next to the loss.
 */
import { readdirSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainingPoint, TrainingSnapshot } from '../shared/protocol';

export const DIAGNOSIS_DIR = 'diagnoses';
const REPORT_RE = /^step-(\d+)\.json$/;
const MAX_REPORT_BYTES = 256 << 20;

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The mean fraction bistable of a report (untrusted JSON), or undefined when it has none. */
export function reportFractionBistable(report: unknown): number | undefined {
  const layers = (report as { bistability?: { layers?: unknown } } | null)?.bistability?.layers;
  if (!Array.isArray(layers)) return undefined;
  const per: number[] = [];
  for (const l of layers) {
    const f = (l as { fractionBistable?: unknown } | null)?.fractionBistable;
    if (Array.isArray(f) && f.length > 0 && f.every((v) => typeof v === 'number' && Number.isFinite(v))) per.push(mean(f as number[]));
  }
  return per.length ? mean(per) : undefined;
}

/** Reports are parsed once per version of the file (the CLI writes each once, atomically). */
const cache = new Map<string, { key: string; value: number | undefined }>();

function fractionOf(path: string): number | undefined {
  let key: string;
  try {
    const st = statSync(path);
    if (st.size > MAX_REPORT_BYTES) return undefined;
    key = `${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
  const hit = cache.get(path);
  if (hit?.key === key) return hit.value;
  let value: number | undefined;
  try {
    value = reportFractionBistable(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    value = undefined; // being written by an older CLI, or damaged: skipped
  }
  if (cache.size > 2000) cache.clear();
  cache.set(path, { key, value });
  return value;
}

/** The run's diagnosed steps with their fraction bistable, in step order. */
export function diagnosisPoints(runDir: string): TrainingPoint[] {
  let names: string[];
  try {
    names = readdirSync(join(runDir, DIAGNOSIS_DIR));
  } catch {
    return [];
  }
  const out: TrainingPoint[] = [];
  for (const n of names) {
    const m = REPORT_RE.exec(n);
    const f = m ? fractionOf(join(runDir, DIAGNOSIS_DIR, n)) : undefined;
    if (m && f !== undefined) out.push({ step: Number(m[1]), fractionBistable: f });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** `s` with each diagnosed step's fraction bistable set on its point (inserted in step order when missing). */
export function withDiagnoses(s: TrainingSnapshot, diagnosed: readonly TrainingPoint[]): TrainingSnapshot {
  let points: TrainingPoint[] | undefined;
  for (const d of diagnosed) {
    const cur = points ?? s.points;
    let i = cur.findIndex((p) => p.step >= d.step);
    if (i < 0) i = cur.length;
    if (cur[i]?.step === d.step && cur[i].fractionBistable === d.fractionBistable) continue;
    points ??= s.points.slice();
    if (points[i]?.step === d.step) points[i] = { ...points[i], fractionBistable: d.fractionBistable };
    else points.splice(i, 0, { step: d.step, fractionBistable: d.fractionBistable });
  }
  return points ? { ...s, points } : s;
}
