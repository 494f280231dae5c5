/** The fixed-points panel's caption (pure, so it is tested without a DOM). */
import type { FixedPoint, FixedPointReport } from '../../core/diagnostics/types';
import { fmt } from './format';
import { layerLabel, power } from '../../core/diagnostics/labels';

/**
 * The panel's caption: counts as lower bounds ("at least") with how the search was run and its margin; for a
 * BRC layer the exact count with margin, of which the search shows a subset.
 */
export function fixedPointsCaption(fp: FixedPointReport): string {
  const count = (s: FixedPoint['stability']) => fp.points.filter((q) => q.stability === s && !q.slow).length;
  const c = fp.search?.counts ?? {
    stable: count('stable'),
    unstable: count('unstable'),
    marginal: count('marginal'),
    slow: fp.points.filter((q) => q.slow).length,
  };
  const input = fp.input.length <= 4 ? `[${fp.input.map((v) => fmt(v)).join(', ')}]` : `${fp.input.length}-dimensional`;
  const s = fp.search;
  const how = s
    ? `${s.starts} runs from observed states of ${s.sequences} sequence${s.sequences === 1 ? '' : 's'} (up to ${s.maxSteps} steps, ${s.settled} settled) found`
    : 'the search found';
  let text =
    `${layerLabel(fp.layer)}, constant input ${input}: ${how} at least ${c.stable} stable, ${c.unstable} unstable and ${c.marginal} marginal fixed point${c.stable + c.unstable + c.marginal === 1 ? '' : 's'}` +
    `${s ? ` (margin δ = ${fmt(s.margin)}, clustering tolerance ${fmt(s.clusterTolerance)})` : ''}; ${c.slow} slow, drawn hollow; ${fp.points.length} shown.`;
  const cell = fp.cellular;
  if (cell) {
    const m = cell.marginalNeurons ?? 0;
    text += ` Exact for this BRC layer: ${cell.bistableNeurons} of ${cell.units} neurons have two stable states${cell.margin !== undefined ? ' with margin' : ''}${m ? ` (${m} marginal)` : ''}, so the layer has ${power(2, cell.log2StableStates)} stable states; the search shows at least ${c.stable} of them.`;
  }
  return text;
}
