/**
 * Where retention is measured: the delays of the MSE curve and the time steps of the probe. No imports, so the
 * diagnosis sentences (also bundled into the webview) can use them.
 */

/** About n log-spaced integer delays from min(5, maxDelay) to maxDelay (distinct, ascending). */
export function delaySchedule(maxDelay: number, n = 10): number[] {
  const lo = Math.min(5, maxDelay);
  const out = new Set<number>();
  for (let i = 0; i < n; i++) out.add(Math.round(lo * Math.pow(maxDelay / lo, n === 1 ? 1 : i / (n - 1))));
  return [...out].sort((a, b) => a - b);
}

/** At most n evenly spaced time indices in [0, T − 1], always including both ends. */
export function probeSchedule(T: number, n = 100): number[] {
  if (T <= n) return Array.from({ length: T }, (_, t) => t);
  const out = new Set<number>();
  for (let i = 0; i < n; i++) out.add(Math.round((i * (T - 1)) / (n - 1)));
  return [...out].sort((a, b) => a - b);
}
