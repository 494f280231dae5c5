/**
 * The memory section as the bistability panel shows it: which heatmap rows hold a memory carrier and over
 * which columns (its window), the carriers table, and a carrier's traces coloured by the target. Pure.
 */
import type { MemoryCarrier, MemoryReport } from '../../core/diagnostics/types';
import { fmt, fmtPercent } from './format';

/** A carrier's row of the stacked heatmap and its window [from, to] in columns. */
export interface CarrierSpan {
  row: number;
  from: number;
  to: number;
  layer: number;
  neuron: number;
}

/**
 * Every carrier of the shown layers (all of memory.layers[l].carrierNeurons, listed or not) as heatmap rows:
 * `shown[i]` is the layer index of the i-th stacked block and `offsets[i]` its first row.
 */
export function carrierSpans(memory: MemoryReport | null | undefined, shown: readonly number[], offsets: readonly number[]): CarrierSpan[] {
  if (!memory || memory.note) return [];
  const out: CarrierSpan[] = [];
  shown.forEach((layer, i) => {
    const ml = memory.layers.find((m) => m.layer === layer);
    if (!ml) return;
    for (const neuron of ml.carrierNeurons) {
      const c = memory.carriers.find((x) => x.layer === layer && x.neuron === neuron);
      // Unlisted carriers (beyond the top ones) have no window in the report: mark the whole row.
      out.push({ row: offsets[i] + neuron, from: c ? c.from : 0, to: c ? c.to : Number.POSITIVE_INFINITY, layer, neuron });
    }
  });
  return out;
}

/** The listed carrier of (layer, neuron), if any. */
export function carrierOf(memory: MemoryReport | null | undefined, layer: number, neuron: number): MemoryCarrier | undefined {
  return memory?.carriers.find((c) => c.layer === layer && c.neuron === neuron);
}

/** What the memory section attributes, for captions ("x₁", "marked value 2", "the class", "y"). */
export function targetLabel(m: Pick<MemoryReport, 'target' | 'components'>, component?: number): string {
  if (m.target === 'x1') return 'x₁';
  if (m.target === 'class') return 'the class';
  if (m.target === 'values') return component === undefined ? 'the marked values' : `marked value ${component + 1}`;
  return m.components > 1 && component !== undefined ? `y[${component}]` : 'y';
}

export const CARRIER_COLUMNS = [
  'layer · neuron',
  'holds',
  'from t',
  'to t',
  'score (95 % CI)',
  'a',
  'c',
  'upper branch',
  '|u|/u*(a)',
  '|λ|',
] as const;

/** One table row per listed carrier, in the report's order (strongest first); layers 1-based as in the panels. */
export function carrierTableRows(m: MemoryReport): string[][] {
  return m.carriers.map((c) => [
    `${c.layer + 1} · ${c.neuron}`,
    targetLabel(m, c.component),
    String(c.from),
    String(c.to),
    `${fmt(c.score, 2)} (${fmt(c.estimate.lo, 2)}–${fmt(c.estimate.hi, 2)})`,
    c.a === null ? '–' : fmt(c.a, 2),
    c.c === null ? '–' : fmt(c.c, 2),
    c.upperBranch === null ? '–' : fmtPercent(c.upperBranch),
    c.margin === null ? '–' : fmt(c.margin, 2),
    c.multiplier === null ? '–' : fmt(c.multiplier, 3),
  ]);
}

/** The caption over the table: how many carry what, by which rule, on how many sequences. */
export function carrierCaption(m: MemoryReport): string {
  if (m.note) return `Memory carriers: ${m.note}.`;
  const score = m.scoreKind === 'eta2' ? 'adjusted η²' : 'adjusted R²';
  const rule = `${score} ≥ ${m.threshold} for at least ${m.minSteps} steps, 95 % interval above, n = ${m.sequences} sequences`;
  if (m.total === 0) return `No single neuron carries ${targetLabel(m)} (${rule}).`;
  const shown = m.carriers.length < m.total ? ` (the ${m.carriers.length} strongest listed)` : '';
  return `${m.total} neuron${m.total === 1 ? '' : 's'} carr${m.total === 1 ? 'ies' : 'y'} ${targetLabel(m)}${shown}: ${rule}. Click a row to open the neuron.`;
}

/**
 * Position of each traced sequence's target on [−1, 1] for a diverging colour scale: regression targets
 * scaled by their largest magnitude, classes spread evenly.
 */
export function targetShades(m: Pick<MemoryReport, 'target'>, targets: readonly number[]): number[] {
  if (m.target === 'class') {
    const classes = [...new Set(targets)].sort((a, b) => a - b);
    return targets.map((v) => (classes.length < 2 ? 0 : -1 + (2 * classes.indexOf(v)) / (classes.length - 1)));
  }
  const top = Math.max(1e-12, ...targets.map((v) => Math.abs(v)));
  return targets.map((v) => v / top);
}
