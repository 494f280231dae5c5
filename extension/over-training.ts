/**
 * The Monitor's `diagnose_every` diagnoses (diagnoses/step-N.json, each a full `rnn-memory diagnose --run`
 * report) as the headline numbers the training panel's Over-training view draws against the step: fraction
 * bistable and the gradient's end ratio per layer, copy-task recall at the longest delay relative to chance,
 * and how many neurons carry the target.
 */
import { readdirSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DiagnosedStep, Ranged, TrainingSnapshot } from '../shared/protocol';

export const DIAGNOSIS_DIR = 'diagnoses';
const REPORT_RE = /^step-(\d+)\.json$/;
const MAX_REPORT_BYTES = 256 << 20;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** A report's estimate of a non-negative ratio; JSON writes an infinite end as null, read back as 0 / Infinity. */
function ratioEstimate(v: unknown, scale = 1): Ranged | null {
  const e = obj(v);
  if (!e || !finite(e.value) || !(scale > 0)) return null;
  const lo = finite(e.lo) ? e.lo / scale : 0;
  const hi = finite(e.hi) ? e.hi / scale : Infinity;
  return { value: e.value / scale, lo, hi };
}

function fractionBistable(layer: unknown): number | null {
  const f = obj(layer)?.fractionBistable;
  return Array.isArray(f) && f.length > 0 && f.every(finite) ? mean(f) : null;
}

/** Recall of x_1 at the report's longest delay, MSE over the batch's chance MSE (its variance of x_1; 1 when absent). */
function retentionAtLongest(r: Json | undefined): DiagnosedStep['retention'] {
  const delays = r?.delays;
  const mse = r?.mse;
  if (!Array.isArray(delays) || !Array.isArray(mse) || delays.length === 0 || delays.length !== mse.length) return null;
  let i = 0;
  for (let k = 1; k < delays.length; k++) if (finite(delays[k]) && (!finite(delays[i]) || delays[k] > delays[i])) i = k;
  if (!finite(delays[i]) || !finite(mse[i])) return null;
  const chanceValue = obj(r?.chance)?.value;
  const chance = finite(chanceValue) && chanceValue > 0 ? chanceValue : 1;
  const est = Array.isArray(r?.mseEstimate) ? ratioEstimate(r.mseEstimate[i], chance) : null;
  return { delay: delays[i], ...(est ?? { value: mse[i] / chance, lo: 0, hi: Infinity }) };
}

/** The headline numbers of one report (untrusted JSON), or undefined when it is not a report. */
export function reportHeadlines(report: unknown, step: number): DiagnosedStep | undefined {
  const r = obj(report);
  const bist = obj(r?.bistability)?.layers;
  if (!r || !Array.isArray(bist)) return undefined;
  const grad = obj(r.gradientFlow)?.layers;
  const total = obj(r.memory)?.total;
  return {
    step,
    fractionBistable: bist.map(fractionBistable),
    gradientEndRatio: Array.isArray(grad) ? grad.map((l) => ratioEstimate(obj(obj(l)?.decay)?.endRatio)) : [],
    retention: retentionAtLongest(obj(r.retention)),
    memoryCarriers: finite(total) ? total : null,
  };
}

/** Reports are parsed once per version of the file (the CLI writes each once, atomically). */
const cache = new Map<string, { key: string; value: DiagnosedStep | undefined }>();

function headlinesOf(path: string, step: number): DiagnosedStep | undefined {
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
  let value: DiagnosedStep | undefined;
  try {
    value = reportHeadlines(JSON.parse(readFileSync(path, 'utf8')), step);
  } catch {
    value = undefined; // being written by an older CLI, or damaged: skipped
  }
  if (cache.size > 2000) cache.clear();
  cache.set(path, { key, value });
  return value;
}

/** The run's diagnosed steps with their headline numbers, in step order. */
export function diagnosedSteps(runDir: string): DiagnosedStep[] {
  let names: string[];
  try {
    names = readdirSync(join(runDir, DIAGNOSIS_DIR));
  } catch {
    return [];
  }
  const out: DiagnosedStep[] = [];
  for (const n of names) {
    const m = REPORT_RE.exec(n);
    const d = m ? headlinesOf(join(runDir, DIAGNOSIS_DIR, n), Number(m[1])) : undefined;
    if (d) out.push(d);
  }
  return out.sort((a, b) => a.step - b.step);
}

/** `s` with its diagnosed steps replaced by `diagnosed` (the same object when nothing changed). */
export function withDiagnoses(s: TrainingSnapshot, diagnosed: readonly DiagnosedStep[]): TrainingSnapshot {
  const same = JSON.stringify(s.diagnosed ?? []) === JSON.stringify(diagnosed);
  return same ? s : { ...s, diagnosed: diagnosed.slice() };
}
