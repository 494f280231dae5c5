/**
 * Colour parsing, mixing, contrast and lookup-table colour scales. Pure (no DOM) so it is unit-tested
 * and shared by the canvas heatmap and the charts.
 */

export type RGB = readonly [number, number, number];

/** Parses #rgb, #rgba, #rrggbb, #rrggbbaa, rgb() and rgba() (alpha is dropped). */
export function parseColor(s: string): RGB | null {
  const t = s.trim().toLowerCase();
  let m = /^#([0-9a-f]{3,4})$/.exec(t);
  if (m) {
    const d = m[1];
    return [parseInt(d[0] + d[0], 16), parseInt(d[1] + d[1], 16), parseInt(d[2] + d[2], 16)];
  }
  m = /^#([0-9a-f]{6})(?:[0-9a-f]{2})?$/.exec(t);
  if (m) {
    const d = m[1];
    return [parseInt(d.slice(0, 2), 16), parseInt(d.slice(2, 4), 16), parseInt(d.slice(4, 6), 16)];
  }
  m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/.exec(t);
  if (m) return [clamp255(+m[1]), clamp255(+m[2]), clamp255(+m[3])];
  return null;
}

function clamp255(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}

export function toCss(c: RGB, alpha = 1): string {
  if (alpha < 1) return `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${alpha})`;
  return '#' + c.map((v) => clamp255(v).toString(16).padStart(2, '0')).join('');
}

/** Linear interpolation in sRGB: t = 0 gives a, t = 1 gives b. */
export function mix(a: RGB, b: RGB, t: number): RGB {
  return [clamp255(a[0] + (b[0] - a[0]) * t), clamp255(a[1] + (b[1] - a[1]) * t), clamp255(a[2] + (b[2] - a[2]) * t)];
}

/** WCAG relative luminance. */
export function relativeLuminance(c: RGB): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
}

export function contrastRatio(a: RGB, b: RGB): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** Moves `c` toward `toward` (usually the foreground) until it reaches `min` contrast against `bg`. */
export function ensureContrast(c: RGB, bg: RGB, toward: RGB, min: number): RGB {
  let out = c;
  for (let t = 0.1; contrastRatio(out, bg) < min && t <= 1.0001; t += 0.1) out = mix(c, toward, t);
  return out;
}

/** A colour scale as an RGBA lookup table of n entries spanning [lo, hi]. */
export interface ColorScale {
  lut: Uint8ClampedArray;
  n: number;
  lo: number;
  hi: number;
}

/** n odd so that the centre value maps exactly onto the middle entry (the `mid` colour). */
export function divergingScale(low: RGB, mid: RGB, high: RGB, center: number, halfRange: number, n = 255): ColorScale {
  if (n % 2 === 0) n += 1;
  const half = halfRange > 0 && Number.isFinite(halfRange) ? halfRange : 1;
  const lut = new Uint8ClampedArray(n * 4);
  const m = (n - 1) / 2;
  for (let i = 0; i < n; i++) {
    const c = i <= m ? mix(low, mid, i / m) : mix(mid, high, (i - m) / m);
    lut.set([c[0], c[1], c[2], 255], i * 4);
  }
  return { lut, n, lo: center - half, hi: center + half };
}

export function sequentialScale(from: RGB, to: RGB, lo: number, hi: number, n = 255): ColorScale {
  const lut = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const c = mix(from, to, i / (n - 1));
    lut.set([c[0], c[1], c[2], 255], i * 4);
  }
  return { lut, n, lo, hi: hi > lo ? hi : lo + 1 };
}

/** LUT index of v (clamped to the scale's range), or −1 for NaN (missing data). */
export function scaleIndex(s: ColorScale, v: number): number {
  if (v !== v) return -1;
  const i = Math.round(((v - s.lo) / (s.hi - s.lo)) * (s.n - 1));
  return i < 0 ? 0 : i >= s.n ? s.n - 1 : i;
}

export function scaleColor(s: ColorScale, v: number): RGB | null {
  const i = scaleIndex(s, v);
  if (i < 0) return null;
  return [s.lut[i * 4], s.lut[i * 4 + 1], s.lut[i * 4 + 2]];
}
