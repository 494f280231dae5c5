/**
 * How layers and powers of ten are written for people. Sentences, the HTML report and the panels number
 * layers from 1 ("Layer 1" is the first, as in the charts and the Inspector); the report JSON stays 0-based
 * (layer, `layers[0]`). Pure (no Node, no DOM): the webview imports it too.
 */

/** The human name of 0-based layer i: "Layer 1" for i = 0 (lowercase: "layer 1" inside a sentence). */
export function layerLabel(i: number, lower = false): string {
  return `${lower ? 'layer' : 'Layer'} ${i + 1}`;
}

const SUP: Record<string, string> = {
  '0': '⁰',
  '1': '¹',
  '2': '²',
  '3': '³',
  '4': '⁴',
  '5': '⁵',
  '6': '⁶',
  '7': '⁷',
  '8': '⁸',
  '9': '⁹',
  '-': '⁻',
};

/** 10^k with a superscript exponent: pow10(-3) = "10⁻³". Non-integer k is rounded (one formatter for all sentences). */
export function pow10(k: number): string {
  return power(10, Math.round(k));
}

/**
 * base^e with a superscript exponent, e to at most one decimal: power(2, 62) = "2⁶²", power(10, 1.94) =
 * "10¹·⁹" (never "10^1.9").
 */
export function power(base: number, e: number): string {
  const r = Math.round(e * 10) / 10;
  const digits = Number.isInteger(r) ? String(r) : r.toFixed(1);
  return `${base}${digits
    .split('')
    .map((c) => (c === '.' ? '·' : (SUP[c] ?? c)))
    .join('')}`;
}
