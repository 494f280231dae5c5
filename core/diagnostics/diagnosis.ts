/**
 * Rules that turn the report's numbers into a few plain sentences a user can act on. Every sentence names
 * the JSON paths it was computed from (resolvable with resolvePath).
 */
import { formatEstimate, type Estimate } from './stats';
import type { DiagnosisSentence, DiagnosticReport, GradientFlowLayer } from './types';

export type ReportBody = Omit<DiagnosticReport, 'diagnosis'>;

/** Value at a JSON path like `gradientFlow.layers[0].decay` (undefined when absent). */
export function resolvePath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

const SUP: Record<string, string> = { '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹', '-': '⁻' };
const pow10 = (k: number) => `10${String(k).split('').map((c) => SUP[c] ?? c).join('')}`;
const pct = (x: number) => `${Math.round(100 * x)}%`;
const fmt = (x: number) => (Math.abs(x) >= 0.01 && Math.abs(x) < 1e4 ? x.toPrecision(2) : x.toExponential(1));
const mean = (a: readonly number[]) => (a.length ? a.reduce((s, v) => s + v, 0) / a.length : 0);
const cellName = (c: string) => (c === 'simple_rnn' ? 'SimpleRNN' : c === 'nbrc' ? 'nBRC' : c.toUpperCase());

export function describeReport(r: ReportBody): DiagnosisSentence[] {
  const out: DiagnosisSentence[] = [];
  const { input } = r;
  const lossName = r.model.architecture.readout.activation === 'softmax' ? 'cross-entropy' : 'MSE';
  out.push({
    text: `Mean task loss on this batch (${input.task ? `task ${input.task}, ` : ''}T = ${input.T}, ${input.B} sequences): ${fmt(input.loss)} (${lossName}).`,
    severity: 'info',
    refs: ['input.loss'],
  });
  for (const layer of r.bistability.layers) out.push(...bistabilitySentences(r, layer.layer));
  for (const g of r.gradientFlow.layers) out.push(...gradientSentences(r, g.layer));
  if (r.retention) out.push(...retentionSentences(r));
  if (r.fixedPoints.points.length > 0 || r.fixedPoints.note) out.push(...fixedPointSentences(r));
  return out;
}

function bistabilitySentences(r: ReportBody, l: number): DiagnosisSentence[] {
  const b = r.bistability.layers[l];
  const p = `bistability.layers[${l}]`;
  if (b.note) return [{ text: `Layer ${l} (${cellName(String(b.cell))}): ${b.note}.`, severity: 'info', refs: [`${p}.note`] }];
  const H = b.units;
  const T = b.T;
  const mostly = b.neurons.filter((n) => n.fractionBistable >= 0.5).length;
  // A neuron "holds" when it never changes branch after the first step and is truly bistable at the end
  // (latched by its own feedback, not pinned by the input).
  const holders = b.neurons.filter((n, j) => n.flipCount === 0 && n.longestHold >= T - 1 && b.fixedPoints[T - 1]?.[j] === 3).length;
  const meanFrac = mean(b.fractionBistable);
  const meanTruly = mean(b.fractionTrulyBistable);
  const flag = b.method === 'gain' ? 'a > 1' : 'self-map slope > 1';
  const out: DiagnosisSentence[] = [];
  if (mostly / H >= 0.05 || holders > 0) {
    let text = `Layer ${l}: ${pct(mostly / H)} of neurons are bistable (${flag}) for most of the sequence`;
    text += holders > 0 ? `; ${holders === 1 ? '1 neuron holds' : `${holders} neurons hold`} one branch for all ${T} steps (latched memory).` : ', but none holds one branch for the whole sequence.';
    out.push({ text, severity: holders > 0 ? 'good' : 'info', refs: [`${p}.neurons`, `${p}.fractionBistable`, `${p}.fixedPoints`] });
    if (meanFrac >= 0.2 && meanTruly < 0.5 * meanFrac) {
      out.push({
        text: `Layer ${l}: the input drive often leaves the bistable band, so only ${pct(meanTruly)} of neuron-steps are truly bistable (three fixed points) against ${pct(meanFrac)} with ${flag}.`,
        severity: 'info',
        refs: [`${p}.fractionTrulyBistable`, `${p}.fractionBistable`],
      });
    }
  } else {
    const mc = b.meanC ? mean(b.meanC) : null;
    const slow = mc !== null && mc >= 0.9;
    out.push({
      text: `Layer ${l}: almost no bistable neurons (${flag} in ${pct(meanFrac)} of neuron-steps); ${
        slow ? `memory can only come from slow decay (mean update gate ${mc!.toFixed(2)}).` : 'the layer relaxes to one state and forgets on its own time scale.'
      }`,
      severity: 'info',
      refs: slow ? [`${p}.fractionBistable`, `${p}.meanC`] : [`${p}.fractionBistable`],
    });
  }
  return out;
}

/** An estimate read back from JSON, where infinite (and NaN) ends become null. */
function fromJson(e: Estimate): Estimate {
  const num = (v: unknown, dflt: number) => (typeof v === 'number' ? v : dflt);
  return { ...e, value: num(e.value, NaN), lo: num(e.lo, -Infinity), hi: num(e.hi, Infinity) };
}

/**
 * ‖∂h_T/∂h_1‖ of a layer as an Estimate: its interval over sequences, or, in older reports (one sequence,
 * a few random probes), a lower bound with no upper end.
 */
export function ownRecurrenceNorm(g: Pick<GradientFlowLayer, 'jacobianNorm' | 'jacobian'>): Estimate {
  const e = g.jacobian?.[0];
  if (e) return fromJson(e);
  const v = g.jacobianNorm[0];
  return { value: typeof v === 'number' ? v : NaN, lo: typeof v === 'number' ? v : NaN, hi: Infinity, n: 1, method: 'lower-bound' };
}

/**
 * Whether a layer's own recurrence surely amplifies a change of its first state: the lower end of
 * ‖∂h_T/∂h_1‖'s interval is above 1 (or the norm is not finite). A loss gradient growing towards early steps
 * is what a memory task asks for when its information comes first; it counts as exploding only when this
 * holds (see explodingGradients).
 */
export function amplifiesOwnRecurrence(g: Pick<GradientFlowLayer, 'jacobianNorm' | 'jacobian'>): boolean {
  const own = ownRecurrenceNorm(g);
  return !Number.isFinite(own.value) || own.lo > 1;
}

/**
 * Exploding gradients: the loss gradient grows backward through every quarter of the sequence (not one jump)
 * and the layer's own recurrence surely amplifies. The one rule behind the sentence's "clip" advice and the
 * panel's "(exploding)" label.
 */
export function explodingGradients(g: Pick<GradientFlowLayer, 'jacobianNorm' | 'jacobian' | 'decay'>): boolean {
  return g.decay.kind === 'exploding' && g.decay.steady === true && amplifiesOwnRecurrence(g);
}

/** ‖∂L/∂h_0‖ / ‖∂L/∂h_{T−1}‖ with its interval (a bare ratio of the norms in older reports). */
function endRatio(g: GradientFlowLayer): Estimate {
  if (g.decay.endRatio) return fromJson(g.decay.endRatio);
  const v = g.norm[0] / g.norm[g.norm.length - 1];
  return { value: v, lo: -Infinity, hi: Infinity, n: 0, method: 'normal' };
}

/**
 * Steps back from the last one until the typical sequence's ‖∂L/∂h_t‖ (decay.medianRatio; the batch norm in
 * older reports) first drops to 1/factor of its end value (null: it never does).
 */
function stepsToFall(g: GradientFlowLayer, factor: number): number | null {
  const curve = g.decay.medianRatio ?? g.norm;
  const T = curve.length;
  for (let d = 1; d < T; d++) if (curve[T - 1 - d] <= curve[T - 1] / factor) return d;
  return null;
}

function gradientSentences(r: ReportBody, l: number): DiagnosisSentence[] {
  const g = r.gradientFlow.layers[l];
  const p = `gradientFlow.layers[${l}]`;
  const T = g.norm.length;
  const cell = cellName(String(r.model.architecture.layers[l]?.cell ?? ''));
  const out: DiagnosisSentence[] = [];
  if (T < 3) return out; // too short to speak of gradient flow over time
  const ratio = endRatio(g);
  const ends = g.decay.endRatio
    ? `median over sequences of ‖∂L/∂h_0‖ / ‖∂L/∂h_${T - 1}‖: ${formatEstimate(ratio, 'sequences')}`
    : `‖∂L/∂h_0‖ / ‖∂L/∂h_${T - 1}‖ = ${fmt(ratio.value)}`;
  const own = ownRecurrenceNorm(g);
  const sequences = r.gradientFlow.jacobianSequences;
  const lowerBound = g.jacobian ? g.jacobianLowerBound === true : true;
  const ownText = !g.jacobian
    ? `‖∂h_T/∂h_1‖ ≥ ${fmt(own.value)} (lower bound from one sequence)`
    : `‖∂h_T/∂h_1‖ ${lowerBound ? '≥' : '='} ${formatEstimate(own, 'sequences')}`;
  const more = `${lowerBound ? 'increase --jacobian-sequences, or --jacobian-probes up to the layer\'s units' : 'increase --jacobian-sequences'}${sequences !== undefined && sequences >= r.input.B ? ' and --batch' : ''}`;
  const refs = [`${p}.decay`, `${p}.norm`];
  if (g.decay.kind === 'decay') {
    // Only what was seen over the T steps: the observed fall, and a fitted τ only when it fits inside them.
    const k = Math.min(6, Math.max(1, Math.floor(Math.log10(1 / ratio.value) + 1e-9)));
    const steps = stepsToFall(g, 10 ** k);
    const tau = g.decay.tau !== null && g.decay.tau * Math.LN10 <= T ? `; log-linear fit τ ≈ ${fmt(g.decay.tau)} steps` : '';
    const short = steps !== null && steps < T - 1 && ratio.hi < 1e-3 && (stepsToFall(g, 1e3) ?? T) < T - 1;
    out.push({
      text: `Layer ${l}: the loss gradient ‖∂L/∂h_t‖ falls ${pow10(k)}×${g.decay.medianRatio ? ' in the typical sequence' : ''} ${
        steps !== null ? `within ${steps} steps going back from the last of the ${T} steps` : `from the last of the ${T} steps back to t = 0`
      } (${ends}${tau})${short ? `: the ${cell} cannot learn dependencies much longer than that.` : '.'}`,
      severity: short ? 'warning' : 'info',
      refs,
    });
  } else if (g.decay.kind === 'exploding') {
    const k = Math.min(6, Math.max(1, Math.floor(Math.log10(ratio.value) + 1e-9)));
    const grows = `Layer ${l}: the loss gradient grows ${pow10(k)}× going back in time over the ${T} steps (${ends})`;
    const jrefs = [...refs, `${p}.jacobianNorm`, ...(g.jacobian ? [`${p}.jacobian`] : [])];
    if (amplifiesOwnRecurrence(g)) {
      const steady = explodingGradients(g);
      out.push({
        text: steady
          ? `${grows}, steadily over the sequence, and the layer's own recurrence amplifies (${ownText}): exploding gradients; clip the gradient norm (train --clip).`
          : `${grows} and the layer's own recurrence amplifies (${ownText}), but the growth does not run through the sequence (it is concentrated in part of it), so this alone does not show exploding gradients.`,
        severity: steady ? 'warning' : 'info',
        refs: jrefs,
      });
    } else if (own.hi <= 1) {
      out.push({
        text: `${grows}, but the layer's own recurrence does not amplify (${ownText}): the loss depends most on early states, as when a task's information comes first (copy-first-input). Clip the gradient norm (train --clip) only if training diverges.`,
        severity: 'info',
        refs: jrefs,
      });
    } else {
      out.push({
        text: `${grows}; whether the layer's own recurrence amplifies is inconclusive (${ownText}; ${more}).`,
        severity: 'info',
        refs: jrefs,
      });
    }
  } else {
    // The dip of the typical sequence (the batch norm in older reports), which a few sequences cannot sway.
    const curve = g.decay.medianRatio ?? g.norm;
    let argmin = 0;
    let max = 0;
    curve.forEach((v, t) => {
      if (v < curve[argmin]) argmin = t;
      max = Math.max(max, v);
    });
    const range = max / curve[argmin];
    const dip = range >= 10 ? `; in between it dips ${fmt(range)}×, lowest at t = ${argmin}` : '';
    // Older reports have no interval: their kind came from the batch norms' own ratio.
    const unsure = g.decay.endRatio !== undefined && ((ratio.lo < 0.1 && ratio.hi >= 0.1) || (ratio.lo <= 10 && ratio.hi > 10));
    out.push({
      text: unsure
        ? `Layer ${l}: whether the loss gradient is tenfold smaller or larger at t = 0 than at the last of the ${T} steps is inconclusive (${ends}; a larger --batch narrows it${dip}).`
        : `Layer ${l}: the loss gradient is about as large at t = 0 as at the last of the ${T} steps (${ends}${dip}): it does not vanish going back over them.`,
      severity: unsure ? 'info' : 'good',
      refs,
    });
  }
  const th = r.gradientFlow.thresholds;
  const vanishingAt = th?.vanishing ?? 1e-3;
  const explodingAt = th?.exploding ?? 1e3;
  const jrefs = [`${p}.jacobianNorm`, ...(g.jacobian ? [`${p}.jacobian`] : [])];
  // A lower bound cannot show that a norm is small: older reports only support the exploding verdict.
  const vanishing = g.jacobian !== undefined && g.vanishing;
  if (vanishing || g.exploding) {
    out.push({
      text: vanishing
        ? `Layer ${l}: ${ownText}, below ${fmt(vanishingAt)}: through its own recurrence a change of the first state no longer reaches the last one.`
        : `Layer ${l}: ${ownText}, above ${fmt(explodingAt)}: the recurrence amplifies perturbations of the first state.`,
      severity: 'warning',
      refs: [...jrefs, `${p}.${vanishing ? 'vanishing' : 'exploding'}`],
    });
  } else if (own.value < vanishingAt || (Number.isFinite(own.lo) && own.lo < vanishingAt && own.hi >= vanishingAt) || own.value > explodingAt) {
    // The central value (or a known interval) reaches a threshold that the whole interval does not.
    const low = own.value < explodingAt;
    out.push({
      text: `Layer ${l}: ${ownText}: inconclusive whether ${
        low ? `it is below ${fmt(vanishingAt)} (a change of the first state no longer reaching the last one)` : `it is above ${fmt(explodingAt)}`
      }; ${more}.`,
      severity: 'info',
      refs: jrefs,
    });
  }
  return out;
}

function retentionSentences(r: ReportBody): DiagnosisSentence[] {
  const ret = r.retention!;
  const out: DiagnosisSentence[] = [];
  const { delays, mse } = ret;
  if (delays.length > 0) {
    const good = delays.filter((_, i) => mse[i] < 0.1);
    const lastGood = good.length ? good[good.length - 1] : null;
    const chanceIdx = mse.findIndex((m, i) => m > 0.5 && (lastGood === null || delays[i] > lastGood));
    let text: string;
    let severity: DiagnosisSentence['severity'];
    if (lastGood === delays[delays.length - 1]) {
      text = `Copy-first-input: x_1 is recalled accurately (MSE < 0.1) at every tested delay up to ${lastGood} steps.`;
      severity = 'good';
    } else if (lastGood !== null) {
      text = `Copy-first-input: x_1 is recalled accurately (MSE < 0.1) up to a delay of ${lastGood} steps${
        chanceIdx >= 0 ? ` and is mostly lost (MSE > 0.5; 1 = chance) from ${delays[chanceIdx]} steps` : ''
      }.`;
      severity = 'info';
    } else {
      const best = Math.min(...mse);
      text = `Copy-first-input: x_1 is never recalled accurately (best MSE ${fmt(best)} at a delay of ${delays[mse.indexOf(best)]} steps; 1 = chance).`;
      severity = 'warning';
    }
    out.push({ text, severity, refs: ['retention.delays', 'retention.mse'] });
  }
  const times = ret.probe.times;
  if (times && times.length > 0 && ret.probe.layers.length > 0) {
    const parts = ret.probe.layers.map((pl) => {
      let last = -1;
      pl.r2.forEach((v, i) => {
        if (v >= 0.5) last = i;
      });
      // times[i] is a 0-based index: the state after times[i] + 1 steps.
      const until = last < 0 ? 'not at all' : last === times.length - 1 ? `for all ${times[last] + 1} steps` : `for about ${times[last] + 1} step${times[last] ? 's' : ''}`;
      return `layer ${pl.layer} ${until}`;
    });
    out.push({
      text: `A linear probe decodes x_1 (R² ≥ 0.5 on held-out sequences) from ${parts.join(', ')}.`,
      severity: 'info',
      refs: ['retention.probe.times', ...ret.probe.layers.map((_, i) => `retention.probe.layers[${i}].r2`)],
    });
  }
  return out;
}

function fixedPointSentences(r: ReportBody): DiagnosisSentence[] {
  const fp = r.fixedPoints;
  if (fp.note) return [{ text: `Fixed points of layer ${fp.layer}: ${fp.note}.`, severity: 'info', refs: ['fixedPoints.note'] }];
  const fixed = fp.points.map((p, k) => ({ p, k })).filter(({ p }) => !p.slow);
  const count = (s: string) => fixed.filter(({ p }) => p.stability === s).length;
  const stable = count('stable');
  const unstable = count('unstable');
  const marginal = count('marginal');
  const slow = fp.points.length - fixed.length;
  const xs = fp.input.every((v) => v === 0) ? 'x* = 0' : `x* = [${fp.input.map(fmt).join(', ')}]`;
  const refs = ['fixedPoints.points', ...fp.points.slice(0, 8).map((_, k) => `fixedPoints.points[${k}].stability`)];
  const cell = fp.cellular;
  if (cell) {
    // BRC: exact, neuron by neuron; the bounded search above only shows some of the combinations.
    const n = cell.bistableNeurons;
    const l2 = cell.log2StableStates;
    const states = n === 0 ? 'one stable state' : l2 <= 20 ? `${Math.round(2 ** l2).toLocaleString('en-US')} stable states` : `${Number.isInteger(l2) ? '' : 'about '}2^${Number.isInteger(l2) ? l2 : fmt(l2)} stable states`;
    const memo = n === 0 ? ': without input it returns to that state and forgets.' : `: every bistable neuron can hold one bit without input.`;
    return [{
      text: `Under constant input ${xs}, ${n} of layer ${fp.layer}'s ${cell.units} neurons ${n === 1 ? 'has' : 'have'} two stable states (their recurrence is cellular, so this is exact), giving the layer ${states}${memo} The search found ${stable} stable and ${unstable} unstable combination${stable + unstable === 1 ? '' : 's'}.`,
      severity: n > 0 ? 'good' : 'info',
      refs: ['fixedPoints.cellular.bistableNeurons', 'fixedPoints.cellular.log2StableStates', ...refs],
    }];
  }
  let text = `Under constant input ${xs}, layer ${fp.layer} has ${stable} stable, ${unstable} unstable and ${marginal} marginal fixed point${fixed.length === 1 ? '' : 's'}${slow ? ` (plus ${slow} slow point${slow === 1 ? '' : 's'})` : ''}`;
  let severity: DiagnosisSentence['severity'] = 'info';
  if (stable >= 2) {
    text += ': several attractors, so it can hold discrete memories without input.';
    severity = 'good';
  } else if (marginal > 0) text += ': a marginal direction lets it integrate and hold values slowly.';
  else if (stable === 1) text += ': the search found a single attractor, so without input the layer likely returns to one state and forgets.';
  else text += '.';
  return [{ text, severity, refs }];
}
