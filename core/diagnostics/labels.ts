/**
 * How layers and powers of ten are written for people. Sentences, the HTML report and the panels number
 * layers from 1 ("Layer 1" is the first, as in the charts and the Inspector); the report JSON stays 0-based
 * (layer, `layers[0]`). Pure (no Node, no DOM): the webview imports it too.
 */

/** The human name of 0-based layer i: "Layer 1" for i = 0 (lowercase: "layer 1" inside a sentence). */
export function layerLabel(i: number, lower = false): string {
  return `${lower ? 'layer' : 'Layer'} ${i + 1}`;
}

const SUP: Record<string, string> = { '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹', '-': '⁻' };

/** 10^k with a superscript exponent: pow10(-3) = "10⁻³". Non-integer k is rounded (one formatter for all sentences). */
export function pow10(k: number): string {
  return `10${String(Math.round(k)).split('').map((c) => SUP[c] ?? c).join('')}`;
}
