/** CSV text for every panel's data (RFC 4180 quoting, "\n" line ends) and safe export file names. Pure. */
import type { BistabilityLayer, FixedPointReport, GradientFlowReport, RetentionReport, StepIntervals } from '../../core/diagnostics/types';
import type { Estimate } from '../../core/diagnostics/stats';
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
          yield [
            L.layer,
            t,
            j,
            L.a[t]?.[j],
            L.bistable[t]?.[j],
            L.fixedPoints[t]?.[j],
            L.branch[t]?.[j],
            L.h[t]?.[j],
            L.c?.[t]?.[j],
            L.drive?.[t]?.[j],
          ];
        }
      }
    }
  }
  return toCsv(header, rows());
}

/** Interval columns of an estimate: 95 % lo, hi, n, method (blank where absent or unbounded). */
const ESTIMATE_COLUMNS = (name: string) => [`${name}_ci95_lo`, `${name}_ci95_hi`, `${name}_n`, `${name}_interval_method`];
const estimateCells = (e: Estimate | null | undefined): CsvValue[] => (e ? [e.lo, e.hi, e.n, e.method] : ['', '', '', '']);
const stepCells = (iv: StepIntervals | null | undefined, t: number): CsvValue[] =>
  iv ? [iv.lo[t], iv.hi[t], iv.n, iv.method] : ['', '', '', ''];

/**
 * Per-layer time series of the bistability summary, each with its 95 % interval over sequences
 * (BistabilityLayer.intervals: `<series>_ci95_lo`, `_ci95_hi`, `_n` sequences, `_interval_method`).
 */
export function bistabilityFractionsCsv(layers: readonly BistabilityLayer[]): string {
  const rows: CsvValue[][] = [];
  for (const L of layers) {
    const iv = L.intervals;
    for (let t = 0; t < L.fractionBistable.length; t++) {
      rows.push([
        L.layer,
        t,
        L.fractionBistable[t],
        L.fractionTrulyBistable[t],
        L.meanC?.[t],
        ...stepCells(iv?.fractionBistable, t),
        ...stepCells(iv?.fractionTrulyBistable, t),
        ...stepCells(iv?.meanC, t),
      ]);
    }
  }
  return toCsv(
    [
      'layer',
      't',
      'fraction_bistable',
      'fraction_truly_bistable',
      'mean_c',
      ...ESTIMATE_COLUMNS('fraction_bistable'),
      ...ESTIMATE_COLUMNS('fraction_truly_bistable'),
      ...ESTIMATE_COLUMNS('mean_c'),
    ],
    rows,
  );
}

/** ‖∂L/∂h_t‖ and ‖∂h_T/∂h_t‖ per step; the latter with its interval and whether it is a lower bound. */
export function gradientFlowCsv(g: GradientFlowReport): string {
  const rows: CsvValue[][] = [];
  for (const L of g.layers) {
    for (let t = 0; t < L.norm.length; t++)
      rows.push([
        L.layer,
        t,
        L.norm[t],
        L.jacobianNorm[t],
        ...estimateCells(L.jacobian?.[t]),
        L.jacobian ? L.jacobianLowerBound === true : '',
      ]);
  }
  return toCsv(['layer', 't', 'grad_norm', 'jacobian_norm', ...ESTIMATE_COLUMNS('jacobian_norm'), 'jacobian_norm_is_lower_bound'], rows);
}

/** Several runs overlaid: one row per point of either curve, with its interval where the report has one. */
export function retentionCsv(items: readonly { label: string; retention: RetentionReport | null }[]): string {
  const rows: CsvValue[][] = [];
  for (const { label, retention: r } of items) {
    if (!r) continue;
    r.delays.forEach((d, i) => rows.push([label, 'mse_vs_delay', '', d, r.mse[i], ...estimateCells(r.mseEstimate?.[i])]));
    if (r.chance) rows.push([label, 'chance_mse', '', '', r.chance.value, ...estimateCells(r.chance)]);
    const xs = probeTimeSteps(r.probe);
    for (const L of r.probe.layers)
      L.r2.forEach((v, i) => rows.push([label, 'probe_r2_vs_t', L.layer, xs[i], v, ...estimateCells(L.r2Estimate?.[i])]));
    r.probe.readoutR2?.forEach((e, i) => rows.push([label, 'readout_r2_vs_t', '', xs[i], e.value, ...estimateCells(e)]));
  }
  return toCsv(['run', 'series', 'layer', 'x', 'value', 'ci95_lo', 'ci95_hi', 'n', 'interval_method'], rows);
}

/**
 * One row per fixed point found; the search's estimates (share of runs unsettled and in the largest basin,
 * Wilson intervals over runs) repeat on every row so each row stands alone in a spreadsheet.
 */
export function fixedPointsCsv(fp: FixedPointReport): string {
  const s = fp.search;
  const search = [
    ...(s ? [s.unsettled.value] : ['']),
    ...estimateCells(s?.unsettled),
    ...(s ? [s.largestBasin.value] : ['']),
    ...estimateCells(s?.largestBasin),
  ];
  const rows = fp.points.map((p, k) => [
    k,
    p.stability,
    p.slow,
    p.residual,
    p.maxEigenvalue,
    p.pca[0],
    p.pca[1],
    p.state.join(' '),
    ...search,
  ]);
  return toCsv(
    [
      'point',
      'stability',
      'slow',
      'residual',
      'max_eigenvalue',
      'pc1',
      'pc2',
      'state',
      'search_unsettled_share',
      ...ESTIMATE_COLUMNS('search_unsettled_share'),
      'search_largest_basin_share',
      ...ESTIMATE_COLUMNS('search_largest_basin_share'),
    ],
    rows,
  );
}

/**
 * The curves, one row per step; a diagnosed snapshot's headline numbers (monitored runs) join its step's row,
 * per layer where the report has one per layer, with the 95 % interval's ends next to each estimate.
 */
export function trainingCsv(s: TrainingSnapshot): string {
  const diag = s.diagnosed ?? [];
  const layers = Math.max(0, ...diag.map((d) => Math.max(d.fractionBistable.length, d.gradientEndRatio.length)));
  const perLayer = (name: string) => Array.from({ length: layers }, (_, l) => `${name}_layer${l + 1}`);
  const withEnds = (name: string) => [name, `${name}_lo`, `${name}_hi`];
  const header = ['step', 'loss', 'test_loss', s.metricName];
  if (diag.length)
    header.push(
      ...perLayer('fraction_bistable'),
      ...perLayer('gradient_end_ratio').flatMap(withEnds),
      'retention_delay',
      ...withEnds('retention_mse_over_chance'),
      'memory_carriers',
    );
  const byStep = new Map(diag.map((d) => [d.step, d]));
  const steps = [...new Set([...s.points.map((p) => p.step), ...byStep.keys()])].sort((a, b) => a - b);
  const points = new Map(s.points.map((p) => [p.step, p]));
  const ends = (r: { value: number; lo: number; hi: number } | null | undefined): CsvValue[] =>
    r ? [r.value, r.lo, r.hi] : [null, null, null];
  const rows = steps.map((step) => {
    const p = points.get(step);
    const row: CsvValue[] = [step, p?.loss, p?.testLoss, p?.metric];
    const d = byStep.get(step);
    if (diag.length)
      row.push(
        ...Array.from({ length: layers }, (_, l) => d?.fractionBistable[l]),
        ...Array.from({ length: layers }, (_, l) => ends(d?.gradientEndRatio[l])).flat(),
        d?.retention?.delay,
        ...ends(d?.retention),
        d?.memoryCarriers,
      );
    return row;
  });
  return toCsv(header, rows);
}
