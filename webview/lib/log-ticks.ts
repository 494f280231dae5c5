/**
 * Tick values and labels for logarithmic chart axes. Chart.js places ticks at every 1…9 × 10^k and the
 * panels used to label only powers of ten, so a loss curve inside one decade (0.15…1) showed a single "1".
 * Here the sparsest readable set is chosen: powers of ten, else 1-2-5 steps, else 1…9 steps, else the ends.
 */

const MANTISSAS: readonly (readonly number[])[] = [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]];
/** Most labels on one axis before powers of ten are thinned (every second, third, … decade). */
const MAX_TICKS = 8;

/** Values m × 10^k inside [min, max] (a relative tolerance keeps ends that are the tick itself). */
function ticksFor(mantissas: readonly number[], min: number, max: number): number[] {
  const out: number[] = [];
  const lo = min * (1 - 1e-9);
  const hi = max * (1 + 1e-9);
  for (let k = Math.floor(Math.log10(min)); k <= Math.ceil(Math.log10(max)); k++) {
    for (const m of mantissas) {
      // Rounding through toPrecision keeps 0.3 from being 0.30000000000000004.
      const v = Number((m * 10 ** k).toPrecision(12));
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

/**
 * Tick values for a log axis over [min, max], ascending: the first of powers of ten, 1-2-5 or 1…9 steps
 * that gives at least `want` ticks; with fewer than two even at 1…9 steps, the axis ends are added.
 */
export function logAxisTicks(min: number, max: number, want = 3): number[] {
  if (!(min > 0) || !(max > min) || !Number.isFinite(max)) return [];
  for (const m of MANTISSAS) {
    const t = ticksFor(m, min, max);
    if (t.length >= want) return thin(t);
  }
  const dense = ticksFor(MANTISSAS[2], min, max);
  if (dense.length >= 2) return dense;
  return [...new Set([min, ...dense, max])].sort((a, b) => a - b);
}

/** Every n-th tick so that at most MAX_TICKS remain (only long power-of-ten runs need it), keeping the largest. */
function thin(t: number[]): number[] {
  if (t.length <= MAX_TICKS) return t;
  const step = Math.ceil(t.length / MAX_TICKS);
  return t.filter((_, i) => (t.length - 1 - i) % step === 0);
}

/** "0.01", "0.2", "150", "2e-4", "1e5": `digits` significant digits, exponent form outside 1e-3…1e4. */
export function logTickLabel(v: number, digits = 2): string {
  if (!(v > 0) || !Number.isFinite(v)) return '';
  const e = Math.floor(Math.log10(v) + 1e-9);
  if (e < -3 || e >= 4) return `${Number((v / 10 ** e).toPrecision(digits))}e${e}`;
  return String(Number(v.toPrecision(digits)));
}

/** Labels for a whole axis: two significant digits, more when a narrow axis's ends would otherwise read alike. */
export function logTickLabels(values: readonly number[]): string[] {
  let labels: string[] = [];
  for (let digits = 2; digits <= 6; digits++) {
    labels = values.map((v) => logTickLabel(v, digits));
    if (new Set(labels).size === labels.length) break;
  }
  return labels;
}
