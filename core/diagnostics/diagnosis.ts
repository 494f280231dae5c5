/**
 * Rules that turn the report's numbers into a few plain sentences a user can act on. Every sentence names
 * the JSON paths it was computed from (resolvable with resolvePath).
 */
import { delaySchedule } from './schedules';
import { exactEstimate, formatEstimate, surelyAbove, surelyBelow } from './stats';
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

/**
 * Whether a layer's own recurrence amplifies a change of its first state (‖∂h_T/∂h_1‖ > 1, or not finite).
 * A loss gradient growing towards early steps is what a memory task asks for when its information comes
 * first; it counts as exploding only when this holds.
 */
export function amplifiesOwnRecurrence(g: Pick<GradientFlowLayer, 'jacobianNorm'>): boolean {
  const own = g.jacobianNorm[0];
  return !(Number.isFinite(own) && own <= 1);
}

function gradientSentences(r: ReportBody, l: number): DiagnosisSentence[] {
  const g = r.gradientFlow.layers[l];
  const p = `gradientFlow.layers[${l}]`;
  const T = g.norm.length;
  const cell = cellName(String(r.model.architecture.layers[l]?.cell ?? ''));
  const k = Math.floor(Math.log10(g.decay.dynamicRange) + 1e-9); // a range of exactly 10^k may compute as 0.99…·10^k
  const out: DiagnosisSentence[] = [];
  if (T < 3) return out; // too short to speak of gradient flow over time
  if (g.decay.kind === 'decay' && g.decay.tau !== null) {
    const kk = Math.min(6, Math.max(1, k));
    const steps = Math.round(g.decay.tau * kk * Math.LN10);
    const short = steps < T;
    out.push({
      text: `Layer ${l}: the loss gradient ‖∂L/∂h_t‖ falls ${pow10(kk)}× within ${steps} steps going back from the end (τ ≈ ${fmt(g.decay.tau)} steps)${
        short && kk >= 3 ? `: the ${cell} cannot learn dependencies much longer than that.` : '.'
      }`,
      severity: short && kk >= 3 ? 'warning' : 'info',
      refs: [`${p}.decay`, `${p}.norm`],
    });
  } else if (g.decay.kind === 'exploding') {
    const own = g.jacobianNorm[0];
    const contracting = !amplifiesOwnRecurrence(g);
    out.push({
      text: contracting
        ? `Layer ${l}: the loss gradient grows ${pow10(Math.max(1, k))}× going back in time, but the layer's own recurrence does not amplify (‖∂h_T/∂h_1‖ ≈ ${fmt(own)}): the loss depends most on early states, as when a task's information comes first (copy-first-input). Clip the gradient norm (train --clip) only if training diverges.`
        : `Layer ${l}: the loss gradient grows ${pow10(Math.max(1, k))}× going back in time and the layer's own recurrence amplifies (‖∂h_T/∂h_1‖ ≈ ${fmt(own)}): exploding gradients; clip the gradient norm (train --clip).`,
      severity: contracting ? 'info' : 'warning',
      refs: [`${p}.decay`, `${p}.norm`, `${p}.jacobianNorm`],
    });
  } else {
    out.push({
      text: `Layer ${l}: the loss gradient keeps its size over all ${T} steps (range ${fmt(g.decay.dynamicRange)}×), so long dependencies can be learned.`,
      severity: 'good',
      refs: [`${p}.decay`, `${p}.norm`],
    });
  }
  const th = r.gradientFlow.thresholds;
  if ((g.vanishing || g.exploding) && T > 1) {
    out.push({
      text: g.vanishing
        ? `Layer ${l}: ‖∂h_T/∂h_1‖ ≈ ${fmt(g.jacobianNorm[0])} (below ${fmt(th?.vanishing ?? 1e-3)}): through its own recurrence a change of the first state no longer reaches the last one.`
        : `Layer ${l}: ‖∂h_T/∂h_1‖ ≈ ${fmt(g.jacobianNorm[0])} (above ${fmt(th?.exploding ?? 1e3)}): the recurrence amplifies perturbations of the first state.`,
      severity: 'warning',
      refs: [`${p}.jacobianNorm`, `${p}.${g.vanishing ? 'vanishing' : 'exploding'}`],
    });
  }
  return out;
}

/** Retention verdict thresholds: recalled accurately below RECALL_MSE, mostly lost above LOST_MSE (chance = 1). */
const RECALL_MSE = 0.1;
const LOST_MSE = 0.5;
/** A probe "decodes" x_1 where its held-out R² is at least DECODE_R2. */
const DECODE_R2 = 0.5;

/** Leading entries that satisfy ok. */
const prefixLength = <T>(a: readonly T[], ok: (v: T) => boolean): number => {
  const k = a.findIndex((v) => !ok(v));
  return k < 0 ? a.length : k;
};
/** Start of the trailing run of entries that satisfy ok (a.length when the last does not). */
const suffixStart = <T>(a: readonly T[], ok: (v: T) => boolean): number => {
  let j = a.length;
  while (j > 0 && ok(a[j - 1])) j--;
  return j;
};

/**
 * Verdicts only where the 95 % intervals support them: "recalled up to d" needs the MSE interval below 0.1
 * at every tested delay up to d, "lost from d" above 0.5 from d on, "never recalled" above 0.1 everywhere;
 * otherwise the sentence says which delay is inconclusive and which setting buys narrower intervals.
 * Reports without intervals (older files) are read as exact.
 */
function retentionSentences(r: ReportBody): DiagnosisSentence[] {
  const ret = r.retention!;
  const out: DiagnosisSentence[] = [];
  const { delays } = ret;
  const mse = ret.mseEstimate ?? ret.mse.map(exactEstimate);
  const batch = mse[0]?.n ?? 0;
  const moreBatch = `raise --retention-batch (now ${batch}; extension setting rnnMemory.diagnostics.retentionBatch) to narrow the intervals`;
  const at = (i: number) => `MSE at ${delays[i]}: ${formatEstimate(mse[i])}`;
  const chance = `1 = chance${ret.chance ? `; chance on this batch: ${formatEstimate(ret.chance)}` : ''}`;
  const refs = ['retention.delays', 'retention.mse', ...(ret.mseEstimate ? ['retention.mseEstimate'] : []), ...(ret.chance ? ['retention.chance'] : [])];
  if (delays.length > 0) {
    const k = prefixLength(mse, (e) => surelyBelow(e, RECALL_MSE));
    const lostFrom = suffixStart(mse, (e) => surelyAbove(e, LOST_MSE));
    let text: string;
    let severity: DiagnosisSentence['severity'] = 'info';
    if (k === delays.length) {
      text = `Copy-first-input: x_1 is recalled accurately (MSE < ${RECALL_MSE}) at every tested delay up to ${delays[k - 1]} steps (${at(k - 1)}).`;
      severity = 'good';
    } else if (k > 0) {
      text = `Copy-first-input: x_1 is recalled accurately (MSE < ${RECALL_MSE}) up to a delay of ${delays[k - 1]} steps`;
      text += lostFrom < delays.length ? ` and is mostly lost (MSE > ${LOST_MSE}; ${chance}) from ${delays[lostFrom]} steps (${at(k - 1)}; ${at(lostFrom)}).` : ` (${at(k - 1)}).`;
      if (!surelyAbove(mse[k], RECALL_MSE)) text += ` At ${delays[k]} steps the evidence is inconclusive (${at(k)}): ${moreBatch}.`;
    } else if (mse.every((e) => surelyAbove(e, RECALL_MSE))) {
      // The lowest MSE only, not its delay: where a flat curve dips is noise.
      const best = mse.reduce((b, e, i) => (e.value < mse[b].value ? i : b), 0);
      text = `Copy-first-input: x_1 is never recalled accurately (MSE > ${RECALL_MSE} at every tested delay up to ${delays[delays.length - 1]} steps; lowest MSE ${formatEstimate(mse[best])}; ${chance}).`;
      severity = 'warning';
    } else {
      const i = mse.findIndex((e) => !surelyAbove(e, RECALL_MSE));
      text = `Copy-first-input: whether x_1 is recalled accurately (MSE < ${RECALL_MSE}) is inconclusive at a delay of ${delays[i]} steps (${at(i)}; ${chance}): ${moreBatch}.`;
    }
    out.push({ text, severity, refs });
  }
  const times = ret.probe.times;
  if (times && times.length > 0 && ret.probe.layers.length > 0) {
    const { trainSequences, testSequences } = ret.probe;
    let inconclusive = false;
    const grid = verdictGrid(times);
    // times[i] is a 0-based index: the state after times[i] + 1 steps.
    const steps = (g: number) => `${times[grid[g]] + 1} step${times[grid[g]] ? 's' : ''}`;
    const parts = ret.probe.layers.map((pl) => {
      const all = pl.r2Estimate ?? pl.r2.map(exactEstimate);
      const r2 = grid.map((i) => all[i]);
      const k1 = prefixLength(r2, (e) => surelyAbove(e, DECODE_R2));
      const k2 = suffixStart(r2, (e) => surelyBelow(e, DECODE_R2));
      let until: string;
      if (k1 === grid.length) until = `for all ${steps(k1 - 1)}`;
      else if (k1 === 0 && k2 === 0) until = 'not at all';
      else if (k1 === k2) until = `for at least ${steps(k1 - 1)} but fewer than ${times[grid[k1]] + 1}`;
      else {
        inconclusive = true;
        until = k1 === 0 ? `inconclusively (after ${steps(0)}: R² ${formatEstimate(r2[0])})` : `for at least ${steps(k1 - 1)} (inconclusive after ${times[grid[k1]] + 1})`;
      }
      return `layer ${pl.layer} ${until}`;
    });
    out.push({
      text: `A linear probe decodes x_1 (R² ≥ ${DECODE_R2} on ${testSequences} held-out sequences${ret.probe.layers[0].r2Estimate ? ', 95 % intervals' : ''}; fitted on ${trainSequences}) from ${parts.join(', ')}.${
        inconclusive ? ` Raise --probe-train (now ${trainSequences}; rnnMemory.diagnostics.probeTrain) or --retention-batch (now ${testSequences}) to narrow the intervals.` : ''
      }`,
      severity: 'info',
      refs: ['retention.probe.times', ...ret.probe.layers.map((pl, i) => `retention.probe.layers[${i}].${pl.r2Estimate ? 'r2Estimate' : 'r2'}`)],
    });
    const under = underpoweredProbe(ret);
    if (under) out.push(under);
  }
  return out;
}

/**
 * Indices into the probe times at which the probe verdict is read: about 10 log-spaced step counts from the
 * first step to the last (the delays' spacing). A boundary drawn on the dense probe grid would move with the
 * batch wherever R² crosses 0.5 slowly; on this coarse grid it moves only when a grid point sits at 0.5.
 */
function verdictGrid(times: readonly number[]): number[] {
  const last = times[times.length - 1] + 1;
  const out = new Set<number>([0]);
  for (const s of delaySchedule(last)) {
    let best = 0;
    times.forEach((t, i) => (Math.abs(t + 1 - s) < Math.abs(times[best] + 1 - s) ? (best = i) : 0));
    out.add(best);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * The model's own readout of the last layer is a linear decoder of x_1 from that layer's state, so a probe
 * of that layer doing surely worse (interval below the readout's) lacks training data, not information.
 */
function underpoweredProbe(ret: NonNullable<ReportBody['retention']>): DiagnosisSentence | null {
  const { readoutR2, times, layers, trainSequences } = ret.probe;
  const last = layers.length - 1;
  const probe = layers[last]?.r2Estimate;
  if (!readoutR2 || !probe || !times) return null;
  const below = times.map((_, i) => i).filter((i) => probe[i].hi < readoutR2[i].lo);
  if (below.length === 0) return null;
  const i = below.reduce((b, j) => (readoutR2[j].value - probe[j].value > readoutR2[b].value - probe[b].value ? j : b), below[0]);
  return {
    text: `At ${below.length} of ${times.length} probed times the probe of layer ${layers[last].layer} decodes x_1 worse than the model's own readout of that layer (after ${times[i] + 1} steps: probe R² ${formatEstimate(probe[i])}, readout R² ${formatEstimate(readoutR2[i])}): the probe is underpowered, not the memory; raise --probe-train (now ${trainSequences}; rnnMemory.diagnostics.probeTrain).`,
    severity: 'warning',
    refs: [`retention.probe.layers[${last}].r2Estimate`, 'retention.probe.readoutR2', 'retention.probe.times'],
  };
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
