/**
 * Rules that turn the report's numbers into a few plain sentences a user can act on. Every sentence names
 * the JSON paths it was computed from (resolvable with resolvePath).
 */
import { delaySchedule } from './schedules';
import { exactEstimate, formatEstimate, proportionEstimate, surelyAbove, surelyBelow, type Estimate } from './stats';
import type {
  CellularAttractors,
  DiagnosisSentence,
  DiagnosticReport,
  GradientFlowLayer,
  MemoryCarrier,
  MemoryEnd,
  MemoryLayer,
  MemoryReport,
} from './types';
import { layerLabel, power, pow10 } from './labels';
import { knob, type SentenceContext } from './advice';
import { holdsWholeSequence } from './latch';

export type { SentenceContext } from './advice';

export type ReportBody = Omit<DiagnosticReport, 'diagnosis'>;

/** How to turn gradient clipping on, in the words of `ctx`. */
export function clipAdvice(ctx: SentenceContext): string {
  return knob(ctx, 'clip');
}

/** Value at a JSON path like `gradientFlow.layers[0].decay` (undefined when absent). */
export function resolvePath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

const pct = (x: number) => `${Math.round(100 * x)}%`;
const fmt = (x: number) => (Math.abs(x) >= 0.01 && Math.abs(x) < 1e4 ? x.toPrecision(2) : x.toExponential(1));
const mean = (a: readonly number[]) => (a.length ? a.reduce((s, v) => s + v, 0) / a.length : 0);
const cellName = (c: string) => (c === 'simple_rnn' ? 'SimpleRNN' : c === 'nbrc' ? 'nBRC' : c.toUpperCase());

export function describeReport(r: ReportBody, ctx: SentenceContext = 'cli'): DiagnosisSentence[] {
  const out: DiagnosisSentence[] = [];
  const { input } = r;
  const lossName = r.model.architecture.readout.activation === 'softmax' ? 'cross-entropy' : 'MSE';
  // A probe batch has made-up (zero) targets: a loss against them would read as the model's performance.
  out.push(
    input.source === 'probe'
      ? {
          text: `No task loss: the model names no task, so it was probed with random N(0, 1) inputs (T = ${input.T}, ${input.B} sequences) that have no targets.`,
          severity: 'info',
          refs: ['input.source'],
        }
      : {
          text: `Mean task loss on this batch (${input.task ? `task ${input.task}, ` : ''}T = ${input.T}, ${input.B} sequences): ${fmt(input.loss)} (${lossName}).`,
          severity: 'info',
          refs: ['input.loss'],
        },
  );
  for (const layer of r.bistability.layers) out.push(...bistabilitySentences(r, layer.layer, ctx));
  for (const g of r.gradientFlow.layers) out.push(...gradientSentences(r, g.layer, ctx));
  if (r.retention) out.push(...retentionSentences(r, ctx));
  if (r.fixedPoints.points.length > 0 || r.fixedPoints.note || r.fixedPoints.search) out.push(...fixedPointSentences(r, ctx));
  if (r.memory) out.push(...memorySentences(r, ctx));
  return out;
}

function bistabilitySentences(r: ReportBody, l: number, ctx: SentenceContext): DiagnosisSentence[] {
  const b = r.bistability.layers[l];
  const p = `bistability.layers[${l}]`;
  if (b.note) return [{ text: `${layerLabel(l)} (${cellName(String(b.cell))}): ${b.note}.`, severity: 'info', refs: [`${p}.note`] }];
  const H = b.units;
  const T = b.T;
  const mostly = b.neurons.filter((n) => n.fractionBistable >= 0.5).length;
  // A neuron "holds" when it never changes branch after the first step and is truly bistable at the end
  // (latched by its own feedback, not pinned by the input), in most sampled sequences: one sequence's latch
  // can be chance, and a latch of x₁ may miss the few sequences whose x₁ is near 0. It is latched *memory*
  // only when what it holds varies with the target (a memory carrier); otherwise it is a constant unit
  // (issue 10, item 6). Reports without heldIn: the first sequence.
  const sampled = b.sampledSequences ?? 1;
  const heldIn = b.neurons.map((n, j) => n.heldIn ?? +holdsWholeSequence(n.flipCount, n.longestHold, b.fixedPoints[T - 1]?.[j] ?? 0, T));
  const most = Math.ceil(LATCH_SHARE * sampled);
  const holding = heldIn.map((k, j) => (k >= most ? j : -1)).filter((j) => j >= 0);
  const sometimes = heldIn.filter((k) => k > 0 && k < most).length;
  // The threshold, not the fewest count: the same sentence for every batch.
  const scope = sampled === 1 ? 'of the first sequence' : `in at least ${most} of the ${sampled} sampled sequences`;
  const mem = r.memory && !r.memory.note ? (r.memory.layers.find((m) => m.layer === l) ?? null) : null;
  const holders = mem ? holding.filter((j) => mem.carrierNeurons.includes(j)).length : 0;
  const meanFrac = mean(b.fractionBistable);
  const flag = b.method === 'gain' ? 'a > 1' : 'self-map slope > 1';
  const out: DiagnosisSentence[] = [];
  if (mostly / H >= 0.05 || holding.length > 0) {
    let text = `${layerLabel(l)}: ${pct(mostly / H)} of neurons are bistable (${flag}) for most of the sequence`;
    const some = sometimes > 0 ? `${sometimes} ${holding.length > 0 ? 'more ' : ''}${sometimes === 1 ? 'does' : 'do'} in some of them` : '';
    if (holding.length > 0)
      text += `; ${[...holdingClauses(r, mem, holding, `all ${T} steps ${scope}`, ctx), some].filter(Boolean).join('; ')}.`;
    else if (sampled > 1)
      text += `, but none holds one branch through a whole sequence in ${most} or more of the ${sampled} sampled sequences${some ? ` (${some})` : ''}.`;
    else text += ', but none holds one branch for the whole of the first sequence.';
    out.push({
      text,
      severity: holders > 0 ? 'good' : 'info',
      refs: [`${p}.neurons`, `${p}.fractionBistable`, `${p}.fixedPoints`, ...(mem ? [`memory.layers[${l}].carrierNeurons`] : [])],
    });
    out.push(...bandSentence(b, l, flag, ctx));
  } else {
    const frac = overallOf(b, 'fractionBistable') ?? exactEstimate(meanFrac);
    const mc = overallOf(b, 'meanC') ?? (b.meanC ? exactEstimate(mean(b.meanC)) : null);
    const slow = mc !== null && surelyAbove(mc, 0.9);
    const unsure = mc !== null && !slow && mc.hi >= 0.9;
    out.push({
      text: `${layerLabel(l)}: almost no bistable neurons (${flag} in ${formatEstimate(frac, 'sequences')} of neuron-steps); ${
        slow
          ? `memory can only come from slow decay (mean update gate ${formatEstimate(mc!, 'sequences')}).`
          : unsure
            ? `whether its update gate is high enough (≥ 0.9) for memory by slow decay is inconclusive (mean update gate ${formatEstimate(mc!, 'sequences')}; a larger batch (${knob(ctx, 'batch')}) narrows it).`
            : 'the layer relaxes to one state and forgets on its own time scale.'
      }`,
      severity: 'info',
      refs: mc !== null ? [`${p}.fractionBistable`, `${p}.meanC`, ...(b.overall ? [`${p}.overall`] : [])] : [`${p}.fractionBistable`],
    });
  }
  return out;
}

/** A layer's all-steps average of one series with its interval over sequences (absent in older reports). */
function overallOf(
  b: ReportBody['bistability']['layers'][number],
  k: 'fractionBistable' | 'fractionTrulyBistable' | 'meanC',
): Estimate | null {
  const e = b.overall?.[k];
  return e ? fromJson(e) : null;
}

/**
 * "The input drive often leaves the bistable band": truly bistable neuron-steps surely fewer than half of
 * those with the a-only flag, which are surely at least 20 %. Truly bistable comes from --batch-sample
 * sequences (by default as many as about 0.1 s of maps allow, which can be one: no interval), so without
 * intervals that support it the sentence says what the sample shows and how to decide.
 */
function bandSentence(b: ReportBody['bistability']['layers'][number], l: number, flag: string, ctx: SentenceContext): DiagnosisSentence[] {
  const p = `bistability.layers[${l}]`;
  const frac = overallOf(b, 'fractionBistable') ?? exactEstimate(mean(b.fractionBistable));
  const truly = overallOf(b, 'fractionTrulyBistable') ?? exactEstimate(mean(b.fractionTrulyBistable));
  if (!(frac.value >= 0.2 && truly.value < 0.5 * frac.value)) return [];
  const refs = [`${p}.fractionTrulyBistable`, `${p}.fractionBistable`, ...(b.overall ? [`${p}.overall`] : [])];
  const nums = `truly bistable (three fixed points) ${formatEstimate(truly, 'sequences')} of neuron-steps against ${formatEstimate(frac, 'sequences')} with ${flag}`;
  if (surelyAbove(frac, 0.2) && surelyBelow(truly, 0.5 * frac.lo)) {
    return [{ text: `${layerLabel(l)}: the input drive often leaves the bistable band: ${nums}.`, severity: 'info', refs }];
  }
  return [
    {
      text: `${layerLabel(l)}: whether the input drive often leaves the bistable band is inconclusive (${nums}); more sequences for the truly bistable count (${knob(ctx, 'batchSample')}, now ${b.sampledSequences ?? 1}) decide.`,
      severity: 'info',
      refs,
    },
  ];
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

function gradientSentences(r: ReportBody, l: number, ctx: SentenceContext): DiagnosisSentence[] {
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
  const more = `use more sequences (${knob(ctx, 'jacobianSequences')})${lowerBound ? `, or more probes up to the layer's units (${knob(ctx, 'jacobianProbes')})` : ''}${
    sequences !== undefined && sequences >= r.input.B ? `, and a larger batch (${knob(ctx, 'batch')})` : ''
  }`;
  const refs = [`${p}.decay`, `${p}.norm`];
  if (g.decay.kind === 'decay') {
    // Only what was seen over the T steps: the observed fall, and a fitted τ only when it fits inside them.
    const k = Math.min(6, Math.max(1, Math.floor(Math.log10(1 / ratio.value) + 1e-9)));
    const steps = stepsToFall(g, 10 ** k);
    const tau = g.decay.tau !== null && g.decay.tau * Math.LN10 <= T ? `; log-linear fit τ ≈ ${fmt(g.decay.tau)} steps` : '';
    const short = steps !== null && steps < T - 1 && ratio.hi < 1e-3 && (stepsToFall(g, 1e3) ?? T) < T - 1;
    out.push({
      text: `${layerLabel(l)}: the loss gradient ‖∂L/∂h_t‖ falls ${pow10(k)}×${g.decay.medianRatio ? ' in the typical sequence' : ''} ${
        steps !== null
          ? `within ${steps} steps going back from the last of the ${T} steps`
          : `from the last of the ${T} steps back to t = 0`
      } (${ends}${tau})${short ? `: the ${cell} cannot learn dependencies much longer than that.` : '.'}`,
      severity: short ? 'warning' : 'info',
      refs,
    });
  } else if (g.decay.kind === 'exploding') {
    const k = Math.min(6, Math.max(1, Math.floor(Math.log10(ratio.value) + 1e-9)));
    const grows = `${layerLabel(l)}: the loss gradient grows ${pow10(k)}× going back in time over the ${T} steps (${ends})`;
    const jrefs = [...refs, `${p}.jacobianNorm`, ...(g.jacobian ? [`${p}.jacobian`] : [])];
    if (amplifiesOwnRecurrence(g)) {
      const steady = explodingGradients(g);
      out.push({
        text: steady
          ? `${grows}, steadily over the sequence, and the layer's own recurrence amplifies (${ownText}): exploding gradients; clip the gradient norm (${clipAdvice(ctx)}).`
          : `${grows} and the layer's own recurrence amplifies (${ownText}), but the growth does not run through the sequence (it is concentrated in part of it), so this alone does not show exploding gradients.`,
        severity: steady ? 'warning' : 'info',
        refs: jrefs,
      });
    } else if (own.hi <= 1) {
      out.push({
        text: `${grows}, but the layer's own recurrence does not amplify (${ownText}): the loss depends most on early states, as when a task's information comes first (copy-first-input). Clip the gradient norm (${clipAdvice(ctx)}) only if training diverges.`,
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
        ? `${layerLabel(l)}: whether the loss gradient is tenfold smaller or larger at t = 0 than at the last of the ${T} steps is inconclusive (${ends}; a larger batch (${knob(ctx, 'batch')}) narrows it${dip}).`
        : `${layerLabel(l)}: the loss gradient is about as large at t = 0 as at the last of the ${T} steps (${ends}${dip}): it does not vanish going back over them.`,
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
        ? `${layerLabel(l)}: ${ownText}, below ${fmt(vanishingAt)}: through its own recurrence a change of the first state no longer reaches the last one.`
        : `${layerLabel(l)}: ${ownText}, above ${fmt(explodingAt)}: the recurrence amplifies perturbations of the first state.`,
      severity: 'warning',
      refs: [...jrefs, `${p}.${vanishing ? 'vanishing' : 'exploding'}`],
    });
  } else if (
    own.value < vanishingAt ||
    (Number.isFinite(own.lo) && own.lo < vanishingAt && own.hi >= vanishingAt) ||
    own.value > explodingAt
  ) {
    // The central value (or a known interval) reaches a threshold that the whole interval does not.
    const low = own.value < explodingAt;
    out.push({
      text: `${layerLabel(l)}: ${ownText}: inconclusive whether ${
        low
          ? `it is below ${fmt(vanishingAt)} (a change of the first state no longer reaching the last one)`
          : `it is above ${fmt(explodingAt)}`
      }; ${more}.`,
      severity: 'info',
      refs: jrefs,
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
function retentionSentences(r: ReportBody, ctx: SentenceContext): DiagnosisSentence[] {
  const ret = r.retention!;
  const out: DiagnosisSentence[] = [];
  const { delays } = ret;
  const mse = ret.mseEstimate ?? ret.mse.map(exactEstimate);
  const batch = mse[0]?.n ?? 0;
  const moreBatch = `raise ${knob(ctx, 'retentionBatch')} (now ${batch}) to narrow the intervals`;
  const at = (i: number) => `MSE at ${delays[i]}: ${formatEstimate(mse[i])}`;
  const chance = `1 = chance${ret.chance ? `; chance on this batch: ${formatEstimate(ret.chance)}` : ''}`;
  const refs = [
    'retention.delays',
    'retention.mse',
    ...(ret.mseEstimate ? ['retention.mseEstimate'] : []),
    ...(ret.chance ? ['retention.chance'] : []),
  ];
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
      text +=
        lostFrom < delays.length
          ? ` and is mostly lost (MSE > ${LOST_MSE}; ${chance}) from ${delays[lostFrom]} steps (${at(k - 1)}; ${at(lostFrom)}).`
          : ` (${at(k - 1)}).`;
      if (!surelyAbove(mse[k], RECALL_MSE)) text += ` At ${delays[k]} steps the evidence is inconclusive (${at(k)}): ${moreBatch}.`;
    } else if (mse.every((e) => surelyAbove(e, RECALL_MSE))) {
      // The lowest MSE only, not its delay: where a flat curve dips is noise.
      const best = mse.reduce((b, e, i) => (e.value < mse[b].value ? i : b), 0);
      text = `Copy-first-input: x_1 is never recalled accurately (MSE > ${RECALL_MSE} at every tested delay up to ${delays[delays.length - 1]} steps; lowest MSE ${formatEstimate(mse[best])}; ${chance}).`;
      severity = 'warning';
    } else {
      // Not recalled at the shortest delays but surely at every longer one (e.g. a model trained on one
      // length that misreads much shorter sequences). Anything less clean is left inconclusive: with ten
      // delays, one interval on either side of the threshold by chance is expected.
      const from = suffixStart(mse, (e) => surelyBelow(e, RECALL_MSE));
      const clean = from >= 1 && from <= delays.length - 2 && mse.slice(0, from).every((e) => surelyAbove(e, RECALL_MSE));
      if (clean) {
        const last = delays.length - 1;
        text = `Copy-first-input: x_1 is recalled accurately (MSE < ${RECALL_MSE}) at every tested delay from ${delays[from]} to ${delays[last]} steps (${at(from)}; ${at(last)}), `;
        text += `but not at the shorter delay${from === 1 ? '' : 's'} of ${delays.slice(0, from).join(', ')} steps (${at(from - 1)}; ${chance}).`;
      } else {
        const i = mse.findIndex((e) => !surelyAbove(e, RECALL_MSE));
        text = `Copy-first-input: whether x_1 is recalled accurately (MSE < ${RECALL_MSE}) is inconclusive at a delay of ${delays[i]} steps (${at(i)}; ${chance}): ${moreBatch}.`;
      }
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
        until =
          k1 === 0
            ? `inconclusively (after ${steps(0)}: R² ${formatEstimate(r2[0])})`
            : `for at least ${steps(k1 - 1)} (inconclusive after ${times[grid[k1]] + 1})`;
      }
      return `${layerLabel(pl.layer, true)} ${until}`;
    });
    out.push({
      text: `A linear probe decodes x_1 (R² ≥ ${DECODE_R2} on ${testSequences} held-out sequences${ret.probe.layers[0].r2Estimate ? ', 95 % intervals' : ''}; fitted on ${trainSequences}) from ${parts.join(', ')}.${
        inconclusive
          ? ` Raise ${knob(ctx, 'probeTrain')} (now ${trainSequences}) or ${knob(ctx, 'retentionBatch')} (now ${testSequences}) to narrow the intervals.`
          : ''
      }`,
      severity: 'info',
      refs: [
        'retention.probe.times',
        ...ret.probe.layers.map((pl, i) => `retention.probe.layers[${i}].${pl.r2Estimate ? 'r2Estimate' : 'r2'}`),
      ],
    });
    const under = underpoweredProbe(ret, ctx);
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
function underpoweredProbe(ret: NonNullable<ReportBody['retention']>, ctx: SentenceContext): DiagnosisSentence | null {
  const { readoutR2, times, layers, trainSequences } = ret.probe;
  const last = layers.length - 1;
  const probe = layers[last]?.r2Estimate;
  if (!readoutR2 || !probe || !times) return null;
  const below = times.map((_, i) => i).filter((i) => probe[i].hi < readoutR2[i].lo);
  if (below.length === 0) return null;
  const i = below.reduce((b, j) => (readoutR2[j].value - probe[j].value > readoutR2[b].value - probe[b].value ? j : b), below[0]);
  return {
    text: `At ${below.length} of ${times.length} probed times the probe of ${layerLabel(layers[last].layer, true)} decodes x_1 worse than the model's own readout of that layer (after ${times[i] + 1} steps: probe R² ${formatEstimate(probe[i])}, readout R² ${formatEstimate(readoutR2[i])}): the probe is underpowered, not the memory; raise ${knob(ctx, 'probeTrain')} (now ${trainSequences}).`,
    severity: 'warning',
    refs: [`retention.probe.layers[${last}].r2Estimate`, 'retention.probe.readoutR2', 'retention.probe.times'],
  };
}

function fixedPointSentences(r: ReportBody, ctx: SentenceContext): DiagnosisSentence[] {
  const fp = r.fixedPoints;
  if (fp.note)
    return [{ text: `Fixed points of ${layerLabel(fp.layer, true)}: ${fp.note}.`, severity: 'info', refs: ['fixedPoints.note'] }];
  const s = fp.search;
  const fixed = fp.points.filter((p) => !p.slow);
  const count = (k: string) => fixed.filter((p) => p.stability === k).length;
  // Reports from before the search summary: the same lower bounds from the points listed.
  const c = s?.counts ?? {
    stable: count('stable'),
    unstable: count('unstable'),
    marginal: count('marginal'),
    slow: fp.points.length - fixed.length,
  };
  const xs = fp.input.every((v) => v === 0) ? 'x* = 0' : `x* = [${fp.input.map((v) => (v === 0 ? '0' : fmt(v))).join(', ')}]`;
  const refs = [
    'fixedPoints.points',
    ...(s ? ['fixedPoints.search'] : []),
    ...fp.points.slice(0, 8).map((_, k) => `fixedPoints.points[${k}].stability`),
  ];
  const delta = fmt(s?.margin ?? 1e-3);
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const how = s
    ? `${plural(s.starts, 'run')} from observed states of ${plural(s.sequences, 'sequence')} (up to ${s.maxSteps} steps each)`
    : 'the search';
  const more = `search longer or from more states (${knob(ctx, 'fixedPointSteps')}, ${knob(ctx, 'fixedPointStarts')})`;
  const unsettled =
    s && s.settled < s.starts ? `${s.starts - s.settled} of ${s.starts} runs had not settled after ${s.maxSteps} steps` : '';
  const cell = fp.cellular;
  if (cell) return [brcCellularSentence(fp.layer, cell, c, xs, delta, s ? how : 'a few runs', refs)];
  let text = `Under constant input ${xs}, ${how} found at least ${c.stable} stable, ${c.unstable} unstable and ${c.marginal} marginal fixed point${c.stable + c.unstable + c.marginal === 1 ? '' : 's'} of ${layerLabel(fp.layer, true)} (margin δ = ${delta}`;
  text += s && s.endStates > s.checked ? `; ${s.endStates} distinct end states, ${s.checked} checked)` : ')';
  if (c.slow) text += ` (plus ${plural(c.slow, 'slow point')})`;
  let severity: DiagnosisSentence['severity'] = 'info';
  const verdict = s?.verdict ?? (c.stable >= 2 ? 'several-attractors' : c.marginal > 0 ? 'marginal' : 'inconclusive');
  if (verdict === 'several-attractors') {
    text += ': several attractors, so it can hold discrete memories without input.';
    severity = 'good';
  } else if (verdict === 'marginal') {
    text += `: along its marginal (|λ| within δ of 1${fixed.some((p) => p.basinHeld === false) ? ", or a basin the input's typical effect leaves" : ''}) or slow points the layer can hold values by slow drift (as a line of slow points holds a continuous value); no two stable points with margin were found${unsettled ? `, and ${unsettled}` : ''}.`;
  } else if (verdict === 'one-attractor' && s) {
    const other = proportionUpper(s.starts - Math.round(s.largestBasin.value * s.starts), s.starts);
    text += `: all runs settled at the same state, so the states this batch visits return to it without input and are forgotten (at most ${pct(other)} of them lie in another basin, 95 % bound); other attractors may exist elsewhere.`;
  } else {
    text += `: inconclusive${unsettled ? ` (${unsettled})` : ''}; ${more}.`;
  }
  return [{ text, severity, refs }];
}

/** Upper end of the 95 % Wilson interval of k out of n (the search summary stores the estimate itself). */
function proportionUpper(k: number, n: number): number {
  return proportionEstimate(k, n).hi;
}

/** BRC layers: the exact per-neuron count with margin, and the search's points as a subset of its states. */
function brcCellularSentence(
  layer: number,
  cell: CellularAttractors,
  c: { stable: number; unstable: number; marginal: number },
  xs: string,
  delta: string,
  how: string,
  refs: string[],
): DiagnosisSentence {
  const n = cell.bistableNeurons;
  const l2 = cell.log2StableStates;
  const m = cell.marginalNeurons ?? 0;
  const states =
    n === 0
      ? 'one stable state'
      : l2 <= 20
        ? `${Math.round(2 ** l2).toLocaleString('en-US')} stable states`
        : `${Number.isInteger(l2) ? '' : 'about '}${power(2, l2)} stable states`;
  const margin = cell.margin !== undefined ? ` with margin (|λ| ≤ 1 − ${delta}, basin wider than the input's typical effect)` : '';
  const drifting = cell.stablePerNeuron.filter((k) => k === 0).length;
  const marginal =
    m > 0
      ? `${m} neuron${m === 1 ? ' has' : 's have'} a marginal fixed point (|λ| within ${delta} of 1, or a basin the input's effect leaves): near it ${m === 1 ? 'it holds' : 'they hold'} values only by slow drift, which is not a stored bit`
      : '';
  let text = `Under constant input ${xs}, ${n} of ${layerLabel(layer, true)}'s ${cell.units} neurons ${n === 1 ? 'has' : 'have'} two stable states${margin} (exact: the recurrence is cellular)`;
  const others = drifting > 0 ? ` in the neurons that have one (${drifting} ${drifting === 1 ? 'has' : 'have'} none)` : '';
  if (n > 0)
    text += `, giving the layer ${states}${others}: every bistable neuron can hold one bit without input.${m > 0 ? ` ${marginal}.` : ''}`;
  else if (m > 0) text += `. ${marginal}${m < cell.units ? '; the other neurons return to one state without input' : ''}.`;
  else text += `, so the layer has ${states}: without input it returns to that state and forgets.`;
  // "found at least 0" would be vacuous: say the search settled on none, and that the exact count does not rest on it.
  text +=
    c.stable > 0
      ? ` The search (${how}) found at least ${c.stable} of the layer's stable states, plus ${c.unstable} unstable and ${c.marginal} marginal fixed points (each a combination of neuron states).`
      : ` The search (${how}) settled on no stable state with margin (it found ${c.unstable} unstable and ${c.marginal} marginal fixed points); the exact count above does not rest on it.`;
  return {
    text,
    severity: n > 0 ? 'good' : 'info',
    refs: [
      'fixedPoints.cellular.bistableNeurons',
      'fixedPoints.cellular.log2StableStates',
      ...(m > 0 ? ['fixedPoints.cellular.marginalNeurons'] : []),
      ...refs,
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------
// Memory attribution per neuron

/** Share of the sampled sequences in which a neuron must hold one branch throughout to be said to hold. */
const LATCH_SHARE = 0.75;
const neuronCount = (k: number, one: string, many: string) => (k === 1 ? `1 neuron ${one}` : `${k} neurons ${many}`);

/**
 * How to get more sequences for the memory section: its own task batch, else (the extension's random probe
 * batch) a larger diagnosis batch, else (the CLI's) a larger input file.
 */
function moreSequences(r: ReportBody, ctx: SentenceContext): string {
  if (r.input.source === 'task') return `diagnose more sequences (${knob(ctx, 'memoryBatch')})`;
  return ctx === 'extension' ? `diagnose more sequences (${knob(ctx, 'batch')})` : 'give more sequences (--input)';
}

/** What the memory section attributes, in words ("x₁", "marked value 2", "the class", "y"). */
export function memoryTargetName(m: Pick<MemoryReport, 'target' | 'components'>, component?: number): string {
  if (m.target === 'x1') return 'x₁';
  if (m.target === 'class') return 'the class';
  if (m.target === 'values') return component === undefined ? 'the marked values' : `marked value ${component + 1}`;
  return m.components > 1 && component !== undefined ? `y[${component}]` : 'the target y';
}

/**
 * The bistability sentence's account of neurons that keep one branch for the whole first sequence: latched
 * memory only for memory carriers; a neuron on one branch that does not vary with the target is constant.
 */
/** Clauses on the neurons that hold one branch for `span` ("all 100 steps in each of the 16 sampled sequences"). */
function holdingClauses(r: ReportBody, mem: MemoryLayer | null, holding: number[], span: string, ctx: SentenceContext): string[] {
  const m = r.memory;
  if (!mem || !m) {
    const why = m?.note
      ? `no target to tell memory from a constant unit: ${m.note}`
      : 'the memory section, not computed, tells memory from a constant unit';
    return [`${neuronCount(holding.length, 'holds', 'hold')} one branch for ${span} (${why})`];
  }
  const target = memoryTargetName(m);
  const carriers = holding.filter((j) => mem.carrierNeurons.includes(j)).length;
  const unsure = holding.filter((j) => mem.inconclusive.includes(j)).length;
  const constant = holding.length - carriers - unsure;
  const out: string[] = [];
  if (carriers)
    out.push(
      `${neuronCount(carriers, 'holds', 'hold')} one branch for ${span} and ${carriers === 1 ? 'varies' : 'vary'} with ${target} (latched memory)`,
    );
  if (constant)
    out.push(
      `${neuronCount(constant, 'sits', 'sit')} on one branch for ${span} without carrying ${target} (${constant === 1 ? 'a constant unit' : 'constant units'}, not memory)`,
    );
  if (unsure)
    out.push(
      `${neuronCount(unsure, 'holds', 'hold')} one branch for ${span}, but whether ${unsure === 1 ? 'it carries' : 'they carry'} ${target} is inconclusive on ${m.sequences} sequences (${moreSequences(r, ctx)})`,
    );
  return out;
}

/** How a carrier holds: on bistable branches, by slow decay, or neither (gate means over its window). */
function mechanism(c: MemoryCarrier): string {
  const two = (x: number) => x.toFixed(2);
  if (c.bistable !== null && c.bistable >= 0.5 && c.a !== null)
    return `on bistable branches (a ≈ ${c.a.toFixed(1)}${c.c !== null ? `, c ≈ ${two(c.c)}` : ''})`;
  // BRC/nBRC (a given) call their update gate c; other cells' gates (GRU z, LSTM f) are "update gate".
  const gate = c.a !== null ? 'c' : 'update gate';
  if (c.c !== null && c.c >= 0.9) return `by slow decay (${gate} ≈ ${two(c.c)}${c.a !== null ? `, a ≈ ${c.a.toFixed(1)}` : ''})`;
  const gates = [c.a !== null ? `a ≈ ${c.a.toFixed(1)}` : '', c.c !== null ? `${gate} ≈ ${two(c.c)}` : ''].filter(Boolean).join(', ');
  return gates ? `(${gates})` : '';
}

/** Sentences of the memory section: the carriers by name, what is inconclusive, or that no single neuron carries the target. */
export function memorySentences(r: ReportBody, ctx: SentenceContext = 'cli'): DiagnosisSentence[] {
  const m = r.memory;
  if (!m) return [];
  if (m.note) return [{ text: `Memory attribution per neuron: ${m.note}.`, severity: 'info', refs: ['memory.note'] }];
  const out: DiagnosisSentence[] = [];
  const score = m.scoreKind === 'eta2' ? 'adjusted η²' : 'adjusted R²';
  const rule = `${score} ≥ ${m.threshold} from its own state for at least ${m.minSteps} steps, 95 % interval above the threshold, n = ${m.sequences} sequences`;
  const MAX_NAMED = 5;
  for (const ml of m.layers) {
    if (ml.end && m.endWindow) {
      out.push(...endSentences(r, m, ml, ml.end, m.endWindow, ctx));
      continue;
    }
    const listed = m.carriers.filter((c) => c.layer === ml.layer);
    const p = `memory.layers[${ml.layer}]`;
    if (ml.carrierNeurons.length > 0) {
      // Named carriers grouped by how they hold, so "neurons 45 and 15 hold x₁ from t = 10 to 299 on
      // bistable branches (a ≈ 2.0, c ≈ 0.97)"; each named one's score with its interval follows.
      const named = listed.slice(0, MAX_NAMED);
      const groups = new Map<string, MemoryCarrier[]>();
      // Within a group by neuron index: near-equal scores swap order from one batch to the next.
      for (const c of [...named].sort((x, y) => x.neuron - y.neuron)) {
        const key = `${memoryTargetName(m, c.component)}\u0000${mechanism(c)}`;
        groups.set(key, [...(groups.get(key) ?? []), c]);
      }
      const clauses = [...groups].map(([key, cs]) => {
        const [what, how] = key.split('\u0000');
        const same = cs.every((c) => c.from === cs[0].from && c.to === cs[0].to);
        const names = cs.map((c) => (same ? String(c.neuron) : `${c.neuron} (t = ${c.from} to ${c.to})`));
        const list =
          names.length === 1 ? `neuron ${names[0]} holds` : `neurons ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} hold`;
        return `${list} ${what}${same ? ` from t = ${cs[0].from} to ${cs[0].to}` : ''}${how ? ` ${how}` : ''}`;
      });
      const total = ml.carrierNeurons.length;
      const more = total - named.length;
      const target = memoryTargetName(m);
      let text = `${layerLabel(ml.layer)}: ${total === 1 ? '1 neuron carries' : `${total} neurons carry`} ${target} (${rule})`;
      if (named.length > 0) {
        text += `: ${clauses.join('; ')}${more > 0 ? `; and ${more} more (${p}.carrierNeurons)` : ''}. ${score[0].toUpperCase()}${score.slice(1)}: ${named.map((c) => `neuron ${c.neuron} ${formatEstimate(c.estimate)}`).join('; ')}.`;
      } else {
        text += `, all weaker than the ${m.carriers.length} listed in memory.carriers (${p}.carrierNeurons).`;
      }
      out.push({ text, severity: 'good', refs: [`${p}.carrierNeurons`, 'memory.carriers', 'memory.threshold'] });
    }
    if (ml.inconclusive.length > 0) {
      const k = ml.inconclusive.length;
      out.push({
        text: `${layerLabel(ml.layer)}: whether ${k === 1 ? `neuron ${ml.inconclusive[0]} carries` : `${k} neurons carry`} ${memoryTargetName(m)} is inconclusive: ${k === 1 ? 'its' : 'their'} ${score} reaches ${m.threshold} for ${m.minSteps} steps or more, but not surely (95 % intervals) on ${m.sequences} sequences; ${moreSequences(r, ctx)} to decide.`,
        severity: 'info',
        refs: [`${p}.inconclusive`, `${p}.score`],
      });
    }
  }
  // Undecided end holders do not contradict it: the rule is an interval above the threshold.
  if (m.total === 0 && m.layers.every((ml) => !ml.end || ml.end.carriers.length === 0)) {
    out.push({
      text: `No single neuron carries ${memoryTargetName(m)} (${rule}): whatever memory there is, is spread over many neurons or absent.`,
      severity: 'info',
      refs: ['memory.total', 'memory.threshold', ...m.layers.map((ml) => `memory.layers[${ml.layer}].score`)],
    });
  }
  return out;
}

/** "neurons 45 and 15 hold x₁ from t = 10 to 299 on bistable branches (a ≈ 2.0, c ≈ 0.97)": carriers grouped by target and mechanism. */
function carrierClauses(m: MemoryReport, cs: readonly MemoryCarrier[]): string[] {
  const groups = new Map<string, MemoryCarrier[]>();
  // Within a group by neuron index: near-equal scores swap order from one batch to the next.
  for (const c of [...cs].sort((x, y) => x.neuron - y.neuron)) {
    const key = `${memoryTargetName(m, c.component)}\u0000${mechanism(c)}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups].map(([key, group]) => {
    const [what, how] = key.split('\u0000');
    const same = group.every((c) => c.from === group[0].from && c.to === group[0].to);
    const names = group.map((c) => (same ? String(c.neuron) : `${c.neuron} (t = ${c.from} to ${c.to})`));
    const list =
      names.length === 1 ? `neuron ${names[0]} holds` : `neurons ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} hold`;
    return `${list} ${what}${same ? ` from t = ${group[0].from} to ${group[0].to}` : ''}${how ? ` ${how}` : ''}`;
  });
}

/**
 * A layer's account of who holds the target at the end of the sequence: the count as an interval (sure to
 * possible carriers), the top carriers that stand apart by name, and (without a count, which would change with
 * the batch) that others carry it only for part of the sequence.
 */
function endSentences(
  r: ReportBody,
  m: MemoryReport,
  ml: MemoryLayer,
  end: MemoryEnd,
  [from, to]: [number, number],
  ctx: SentenceContext,
): DiagnosisSentence[] {
  const out: DiagnosisSentence[] = [];
  const p = `memory.layers[${ml.layer}]`;
  const L = layerLabel(ml.layer);
  const target = memoryTargetName(m);
  const score = m.scoreKind === 'eta2' ? 'adjusted η²' : 'adjusted R²';
  const k1 = end.carriers.length;
  const k2 = k1 + end.inconclusive.length;
  if (k2 > 0) {
    const rule = `mean ${score} over t = ${from} to ${to} at least ${m.threshold}; by 95 % intervals on n = ${m.sequences} sequences ${k1} surely, ${k2 - k1} possibly`;
    const count =
      k1 === k2
        ? k1 === 1
          ? '1 neuron holds'
          : `${k1} neurons hold`
        : k1 === 0
          ? `up to ${k2} neuron${k2 === 1 ? '' : 's'} may hold`
          : `between ${k1} and ${k2} neurons hold`;
    let text = `${L}: ${count} ${target} at the end of the sequence (${rule})`;
    const named = end.named
      .map((j) => m.carriers.find((c) => c.layer === ml.layer && c.neuron === j))
      .filter((c): c is MemoryCarrier => c !== undefined);
    if (named.length > 0) text += `; the strongest, which stand apart from the rest: ${carrierClauses(m, named).join('; ')}`;
    else if (k1 > 0) text += '; none stands apart from the rest';
    text += '.';
    if (end.named.length > 0) {
      const est = (j: number) => end.scores.find((s) => s.neuron === j)!.estimate;
      const byIndex = [...end.named].sort((a, b) => a - b);
      text += ` ${score[0].toUpperCase()}${score.slice(1)} at the end: ${byIndex.map((j) => `neuron ${j} ${formatEstimate(est(j))}`).join('; ')}.`;
    }
    if (k2 > k1) text += ` To decide the ${k2 - k1} undecided, ${moreSequences(r, ctx)}.`;
    out.push({
      text,
      severity: k1 > 0 ? 'good' : 'info',
      refs: [`${p}.end`, 'memory.endWindow', 'memory.threshold', ...(named.length ? ['memory.carriers'] : [])],
    });
  }
  const atEnd = new Set([...end.carriers, ...end.inconclusive]);
  if (ml.carrierNeurons.some((j) => !atEnd.has(j))) {
    out.push({
      text: `${L}: ${k2 > 0 ? 'other neurons' : 'no neuron holds ' + target + ' at the end of the sequence; neurons'} carry ${target} for part of the sequence but surely not at its end (${score} at least ${m.threshold} for ${m.minSteps} steps or more; ${p}.carrierNeurons): an echo that fades, not memory held to the end.`,
      severity: 'info',
      refs: [`${p}.carrierNeurons`, `${p}.end`],
    });
  }
  return out;
}
