/**
 * The one rounding of numbers shown to users (panels, Inspector, tree, status bar, notifications): three
 * significant digits, exponent form outside [1e-3, 1e5). One function so that the same value reads the same
 * everywhere.
 */
export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(Math.max(0, digits - 1));
  return String(Number(v.toPrecision(digits)));
}
