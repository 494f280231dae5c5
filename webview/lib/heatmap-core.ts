/**
 * The pure half of the canvas heatmap: cell ↔ pixel mapping and painting a row-major matrix into an
 * RGBA buffer through a colour LUT. When there are more cells than pixels along an axis, each pixel
 * shows the mean of the cells it covers; otherwise each cell gets floor or ceil(pixels / cells) pixels.
 */
import type { ColorScale, RGB } from './colormap';

/** The cell index shown by pixel `px` (first cell of its bin). */
export function cellAtPixel(px: number, cells: number, pixels: number): number {
  const c = Math.floor((px * cells) / pixels);
  return c < 0 ? 0 : c >= cells ? cells - 1 : c;
}

/** Per pixel: the half-open range of cells it covers; ranges tile [0, cells) when pixels ≤ cells. */
export function pixelBins(cells: number, pixels: number): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(pixels);
  const end = new Int32Array(pixels);
  for (let p = 0; p < pixels; p++) {
    const s = cellAtPixel(p, cells, pixels);
    start[p] = s;
    end[p] = Math.min(cells, Math.max(s + 1, Math.floor(((p + 1) * cells) / pixels)));
  }
  return { start, end };
}

/** Half-open pixel range [p0, p1) showing `cell` (the one pixel whose bin holds it when aggregating). */
export function pixelSpanOfCell(cell: number, cells: number, pixels: number): [number, number] {
  const p0 = Math.ceil((cell * pixels) / cells);
  const p1 = Math.min(pixels, Math.ceil(((cell + 1) * pixels) / cells));
  // Aggregating: the last pixel whose bin starts at or before the cell is the one holding it.
  return p1 > p0 ? [p0, p1] : [p1 - 1, p1];
}

/**
 * Paints `values` ([rows][cols] row-major, NaN = missing) into `out` (RGBA, width × height).
 * Missing cells get `background`. Returns the number of pixels painted with data colours.
 */
export function paintHeatmap(
  values: Float32Array | Float64Array,
  rows: number,
  cols: number,
  scale: ColorScale,
  out: Uint8ClampedArray,
  width: number,
  height: number,
  background: RGB,
): number {
  if (out.length < width * height * 4) throw new Error('paintHeatmap: output buffer too small');
  const cb = pixelBins(cols, width);
  const rb = pixelBins(rows, height);
  const lut = scale.lut;
  const k = (scale.n - 1) / (scale.hi - scale.lo);
  const lo = scale.lo;
  const nMax = scale.n - 1;
  const line = width * 4;
  let painted = 0;
  let linePainted = 0;
  for (let py = 0; py < height; py++) {
    const r0 = rb.start[py];
    const r1 = rb.end[py];
    const o = py * line;
    if (py > 0 && r0 === rb.start[py - 1] && r1 === rb.end[py - 1]) {
      out.copyWithin(o, o - line, o);
      painted += linePainted;
      continue;
    }
    linePainted = 0;
    for (let px = 0; px < width; px++) {
      const c0 = cb.start[px];
      const c1 = cb.end[px];
      let sum = 0;
      let n = 0;
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = c0; c < c1; c++) {
          const v = values[base + c];
          if (v === v) {
            sum += v;
            n++;
          }
        }
      }
      const p = o + px * 4;
      if (n === 0) {
        out[p] = background[0];
        out[p + 1] = background[1];
        out[p + 2] = background[2];
        out[p + 3] = 255;
        continue;
      }
      let i = Math.round((sum / n - lo) * k);
      i = i < 0 ? 0 : i > nMax ? nMax : i;
      const q = i * 4;
      out[p] = lut[q];
      out[p + 1] = lut[q + 1];
      out[p + 2] = lut[q + 2];
      out[p + 3] = 255;
      linePainted++;
    }
    painted += linePainted;
  }
  return painted;
}

/** [t][j] time-major nested arrays (nulls from JSON NaN allowed) → [j][t] row-major Float32Array. */
export function matrixFromTimeMajor(
  a: readonly (readonly (number | null)[])[],
  units: number,
  map?: (v: number, t: number, j: number) => number,
): Float32Array {
  const T = a.length;
  const out = new Float32Array(units * T);
  for (let t = 0; t < T; t++) {
    const row = a[t];
    for (let j = 0; j < units; j++) {
      const raw = row?.[j];
      const v = typeof raw === 'number' ? raw : NaN;
      out[j * T + t] = map ? map(v, t, j) : v;
    }
  }
  return out;
}

/** Stacks matrices with the same column count, separated by `gap` rows of NaN. */
export function stackRows(
  mats: { values: Float32Array; rows: number }[],
  cols: number,
  gap: number,
): { values: Float32Array; rows: number; offsets: number[] } {
  const rows = mats.reduce((s, m) => s + m.rows, 0) + gap * Math.max(0, mats.length - 1);
  const values = new Float32Array(rows * cols).fill(NaN);
  const offsets: number[] = [];
  let r = 0;
  for (const m of mats) {
    offsets.push(r);
    values.set(m.values.subarray(0, m.rows * cols), r * cols);
    r += m.rows + gap;
  }
  return { values, rows, offsets };
}

/** Value at quantile q (0..1) of the finite entries of `v` (approximate for large inputs: strided sample). */
export function quantile(v: ArrayLike<number>, q: number, maxSample = 20000): number {
  const stride = Math.max(1, Math.floor(v.length / maxSample));
  const s: number[] = [];
  for (let i = 0; i < v.length; i += stride) if (Number.isFinite(v[i])) s.push(v[i]);
  if (s.length === 0) return NaN;
  s.sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

/**
 * Axis tick indices for `count` cells with room for about `maxTicks` labels: 0 and every multiple of the
 * smallest 1-2-5 × 10^k step that keeps the labels under that number.
 */
export function axisTicks(count: number, maxTicks: number): number[] {
  if (!(count >= 1)) return [];
  const room = Math.max(1, Math.floor(maxTicks));
  let step = 1;
  for (let e = 0; step * room < count; e++) {
    for (const m of [1, 2, 5]) {
      step = m * 10 ** e;
      if (step * room >= count) break;
    }
  }
  const out: number[] = [];
  for (let i = 0; i < count; i += step) out.push(i);
  return out;
}
