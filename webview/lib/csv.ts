/** CSV text for every panel's data (RFC 4180 quoting, "\n" line ends) and safe export file names. Pure. */
import type { BistabilityLayer, FixedPointReport, GradientFlowReport, RetentionReport } from '../../core/diagnostics/types';
import type { TrainingSnapshot } from '../protocol';
import { probeTimeSteps } from './retention-axes';

export type CsvValue = string | number | boolean | null | undefined;

export function csvCell(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? '1' : '0';
  // Labels are user-controlled: neutralise spreadsheet formulas, then quote when needed.
  let s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  if (/[",\n\r]/.test(s)) s = `"${s.replace(/"/g, '""')}"`;
  return s;
}

export function toCsv(header: readonly string[], rows: Iterable<readonly CsvValue[]>): string {
  const lines = [header.map(csvCell).join(',')];
  for (const r of rows) lines.push(r.map(csvCell).join(','));
  return lines.join('\n') + '\n';
}

/** A file name accepted by the host's guard (/^[\w .()-]{1,120}$/ plus the extension). */
export function safeFilename(base: string, ext: 'png' | 'csv'): string {
  const cleaned = base
    .replace(/[^\w .()-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[\s.-]+|[\s.-]+$/g, '')
    .slice(0, 110);
  return `${cleaned || 'export'}.${ext}`;
}

/** Long format, one row per (t, neuron) of one layer. */
export function bistabilityCsv(layers: readonly BistabilityLayer[]): string {
  const header = ['layer', 't', 'neuron', 'a', 'bistable', 'fixed_points', 'branch', 'h', 'c', 'u'];
  function* rows(): Generator<CsvValue[]> {
    for (const L of layers) {
      for (let t = 0; t < L.T; t++) {
        for (let j = 0; j < L.units; j++) {
          yield [L.layer, t, j, L.a[t]?.[j], L.bistable[t]?.[j], L.fixedPoints[t]?.[j], L.branch[t]?.[j], L.h[t]?.[j], L.c?.[t]?.[j], L.drive?.[t]?.[j]];
        }
      }
    }
  }
  return toCsv(header, rows());
}

export function gradientFlowCsv(g: GradientFlowReport): string {
  const rows: CsvValue[][] = [];
  for (const L of g.layers) {
    for (let t = 0; t < L.norm.length; t++) rows.push([L.layer, t, L.norm[t], L.jacobianNorm[t]]);
  }
  return toCsv(['layer', 't', 'grad_norm', 'jacobian_norm'], rows);
}

/** Several runs overlaid: one row per point of either curve. */
export function retentionCsv(items: readonly { label: string; retention: RetentionReport | null }[]): string {
  const rows: CsvValue[][] = [];
  for (const { label, retention: r } of items) {
    if (!r) continue;
    r.delays.forEach((d, i) => rows.push([label, 'mse_vs_delay', '', d, r.mse[i]]));
    const xs = probeTimeSteps(r.probe);
    for (const L of r.probe.layers) L.r2.forEach((v, i) => rows.push([label, 'probe_r2_vs_t', L.layer, xs[i], v]));
  }
  return toCsv(['run', 'series', 'layer', 'x', 'value'], rows);
}

export function fixedPointsCsv(fp: FixedPointReport): string {
  const rows = fp.points.map((p, k) => [k, p.stability, p.slow, p.residual, p.maxEigenvalue, p.pca[0], p.pca[1], p.state.join(' ')]);
  return toCsv(['point', 'stability', 'slow', 'residual', 'max_eigenvalue', 'pc1', 'pc2', 'state'], rows);
}

export function trainingCsv(s: TrainingSnapshot): string {
  return toCsv(
    ['step', 'loss', 'test_loss', s.metricName, 'fraction_bistable'],
    s.points.map((p) => [p.step, p.loss, p.testLoss, p.metric, p.fractionBistable]),
  );
}
