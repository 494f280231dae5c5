/**
 * The paper's Figure 3 view: the input channels of the first sequence and the task's marker times, aligned
 * with each layer's fraction of bistable neurons (a > 1, and truly bistable) and mean update gate, with their
 * averages over the hold period — the steps where the task asks the network to keep what it stored:
 * - copy: t = 1 … T−1 (x₁ at t = 0 must be held to the end);
 * - denoise: after the last marked value until the end marker (the 5 marked steps are the markers);
 * - smnist: the N appended black pixels (the digit must be held through them);
 * - an explicit input: no hold period (channels only).
 */
import type { TaskKind } from '../tasks/types';
import type { BistabilityLayer, InputAlignment } from './types';
import { seriesOf, windowEstimate } from './fraction-intervals';

export const MAX_CHANNELS = 16;

function meanOver(a: readonly number[] | null, from: number, to: number): number | null {
  if (!a || to < from) return null;
  let s = 0;
  let n = 0;
  for (let t = from; t <= to && t < a.length; t++) {
    if (Number.isFinite(a[t])) {
      s += a[t];
      n++;
    }
  }
  return n ? s / n : null;
}

/**
 * Channels and markers of sequence 0 of `x` ([T, B, F] flattened), the hold period for `task` (N: denoise's
 * forbidden tail or smnist's black pixels), and each layer's hold-period averages.
 */
export function inputAlignment(
  x: Float64Array,
  T: number,
  B: number,
  F: number,
  task: TaskKind | undefined,
  N: number,
  layers: readonly BistabilityLayer[],
): InputAlignment {
  // At most MAX_CHANNELS channels are kept: the view is for reading markers, not a data dump.
  const channels: number[][] = Array.from({ length: Math.min(F, MAX_CHANNELS) }, (_, f) =>
    Array.from({ length: T }, (_, t) => x[t * B * F + f]),
  );
  let names = channels.map((_, f) => `x[${f}]`);
  let markers: number[] = [];
  let hold: { from: number; to: number } | null = null;
  if (task === 'copy' && F === 1) {
    names = ['x'];
    markers = [0];
    hold = T > 1 ? { from: 1, to: T - 1 } : null;
  } else if (task === 'denoise' && F === 2) {
    names = ['value', 'marker'];
    // Marker 0 at the relevant steps, −1 elsewhere, +1 at the end step (core/tasks/denoise).
    markers = channels[1].flatMap((m, t) => (m === 0 && t < T - 1 ? [t] : []));
    const last = markers.length ? markers[markers.length - 1] : -1;
    hold = last >= 0 && last + 1 <= T - 2 ? { from: last + 1, to: T - 2 } : null;
  } else if (task === 'smnist' && F === 1) {
    names = ['pixel'];
    hold = N > 0 && T - N <= T - 1 ? { from: T - N, to: T - 1 } : null;
  }
  const holdAverages = hold
    ? layers.map((L) => ({
        layer: L.layer,
        fractionBistable: meanOver(L.fractionBistable, hold!.from, hold!.to),
        fractionTrulyBistable: meanOver(L.fractionTrulyBistable, hold!.from, hold!.to),
        meanC: meanOver(L.meanC, hold!.from, hold!.to),
        estimates: holdEstimates(L, hold!.from, hold!.to),
      }))
    : [];
  return { channels, names, markers, hold, holdAverages };
}

/** Hold-period averages with intervals over sequences (fraction-intervals), where this process has the series. */
function holdEstimates(L: BistabilityLayer, from: number, to: number) {
  const est = (k: 'fractionBistable' | 'fractionTrulyBistable' | 'meanC') => {
    const s = seriesOf(L, k);
    return s ? windowEstimate(s, from, to) : null;
  };
  const e = { fractionBistable: est('fractionBistable'), fractionTrulyBistable: est('fractionTrulyBistable'), meanC: est('meanC') };
  return Object.values(e).some((v) => v) ? e : undefined;
}
