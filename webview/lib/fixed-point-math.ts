/**
 * The one-neuron fixed-point picture of the BRC candidate h = tanh(u + a·h) (paper §3): with a ≤ 1 there
 * is one stable fixed point; with a > 1 there are three (two stable, one unstable) exactly when
 * |u| < u*(a) = a·√(1 − 1/a) − atanh √(1 − 1/a). The fold points are where a·(1 − h²) = 1.
 */

/** Half-width of the bistable band in u at gain a (0 for a ≤ 1). */
export function bistableBand(a: number): number {
  if (!(a > 1)) return 0;
  const s = Math.sqrt(1 - 1 / a);
  return a * s - Math.atanh(s);
}

/** Slope of the self-map at h: d tanh(u + a h)/dh = a (1 − h²) at a fixed point. */
export function slopeAtFixedPoint(a: number, h: number): number {
  return a * (1 - h * h);
}

export interface SelfMapFixedPoint {
  h: number;
  stable: boolean;
}

/** Fixed points of h ↦ tanh(u + a h), ascending (bracketing on a grid, then bisection). */
export function selfMapFixedPoints(a: number, u: number, grid = 4000): SelfMapFixedPoint[] {
  const f = (h: number) => Math.tanh(u + a * h) - h;
  const out: SelfMapFixedPoint[] = [];
  let x0 = -1;
  let f0 = f(x0);
  for (let i = 1; i <= grid; i++) {
    const x1 = -1 + (2 * i) / grid;
    const f1 = f(x1);
    if (f1 === 0) {
      out.push(point(a, x1));
    } else if (f0 !== 0 && f0 < 0 !== f1 < 0) {
      let lo = x0;
      let hi = x1;
      let flo = f0;
      for (let k = 0; k < 60; k++) {
        const mid = (lo + hi) / 2;
        const fm = f(mid);
        if (fm < 0 === flo < 0) {
          lo = mid;
          flo = fm;
        } else hi = mid;
      }
      out.push(point(a, (lo + hi) / 2));
    }
    x0 = x1;
    f0 = f1;
  }
  return out;
}

function point(a: number, h: number): SelfMapFixedPoint {
  return { h, stable: Math.abs(slopeAtFixedPoint(a, h)) < 1 };
}

export interface BranchSegment {
  stable: boolean;
  points: { a: number; h: number }[];
}

/**
 * The fixed-point curve h*(a) at input drive u, for a in [aMin, aMax], split into stable and unstable
 * segments. Parametrised by s = atanh(h*): a(s) = (s − u) / tanh(s), which is exact and needs no
 * root finding; for u = 0 the line h* = 0 (stable iff a < 1) is added.
 */
export function branchCurve(u: number, aMin: number, aMax: number, samples = 600): BranchSegment[] {
  const segs: BranchSegment[] = [];
  const S = aMax + Math.abs(u) + 2;
  for (const sign of [-1, 1]) {
    // Each side of s = 0 is one continuous curve; walk it from s≈0 outward.
    let cur: BranchSegment | null = null;
    for (let i = 1; i <= samples; i++) {
      const s = (sign * (S * i)) / samples;
      const h = Math.tanh(s);
      const a = (s - u) / h;
      if (!(a >= aMin && a <= aMax)) {
        if (cur && cur.points.length > 1) segs.push(cur);
        cur = null;
        continue;
      }
      const stable = slopeAtFixedPoint(a, h) < 1;
      if (cur && cur.stable !== stable) {
        if (cur.points.length > 1) segs.push(cur);
        // Share the fold point between both segments so the drawn curve stays connected.
        cur = { stable, points: [cur.points[cur.points.length - 1]] };
      }
      if (!cur) cur = { stable, points: [] };
      cur.points.push({ a, h });
    }
    if (cur && cur.points.length > 1) segs.push(cur);
  }
  if (u === 0) {
    if (aMin < 1)
      segs.push({
        stable: true,
        points: [
          { a: aMin, h: 0 },
          { a: Math.min(1, aMax), h: 0 },
        ],
      });
    if (aMax > 1)
      segs.push({
        stable: false,
        points: [
          { a: Math.max(1, aMin), h: 0 },
          { a: aMax, h: 0 },
        ],
      });
  }
  return segs;
}

/** Points (a, ±u*(a)) tracing the bistable band's edges for a in [1, aMax]. */
export function bandEdge(aMax: number, samples = 200): { a: number; u: number }[] {
  const out: { a: number; u: number }[] = [];
  for (let i = 0; i <= samples; i++) {
    const a = 1 + ((aMax - 1) * i) / samples;
    out.push({ a, u: bistableBand(a) });
  }
  return out;
}
