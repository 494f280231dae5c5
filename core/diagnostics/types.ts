/**
 * The diagnostic report: one typed object produced by `diagnose()` and consumed identically by the CLI
 * (JSON and HTML report) and by the extension's panels. Arrays indexed [t][j] are time × neuron.
 * JSON paths named in issue 4 are part of the contract: bistability.layers[l].a[t][j],
 * bistability.layers[l].bistable[t][j], bistability.layers[l].fractionBistable[t],
 * gradientFlow.layers[l].norm[t], retention.probe.layers[l].r2[t], fixedPoints.points[k].stability.
 */
import type { Architecture } from '../model/architecture';
import type { CellKind } from '../cells/types';
import type { Estimate } from './stats';

export const REPORT_VERSION = 1;

/** The report's computed sections; a section left out is present but empty (see DiagnosticReport.sections). */
export type SectionName = 'bistability' | 'gradientFlow' | 'retention' | 'fixedPoints' | 'memory';
export const SECTION_NAMES: readonly SectionName[] = ['bistability', 'gradientFlow', 'retention', 'fixedPoints', 'memory'];

export interface DiagnosticReport {
  version: typeof REPORT_VERSION;
  createdAt: string;
  model: ModelSummary;
  input: InputSummary;
  bistability: BistabilityReport;
  gradientFlow: GradientFlowReport;
  /** Null when the model cannot be evaluated on copy-first-input (input size ≠ 1 or readout ≠ 1 linear unit). */
  retention: RetentionReport | null;
  fixedPoints: FixedPointReport;
  /** Which neurons carry the task's target, from when to when (absent in reports older than this section; null when not computed). */
  memory?: MemoryReport | null;
  diagnosis: DiagnosisSentence[];
  /** The sections that were computed; the others hold empty arrays (retention: null). */
  sections?: SectionName[];
  /** Wall-clock milliseconds per section, for the bench and for users. */
  timings: Record<string, number>;
}

export interface ModelSummary {
  architecture: Architecture;
  path?: string;
  name?: string;
  paramCount: number;
}

export interface InputSummary {
  /** 'task': generated from a benchmark; 'file': the user's sequences; 'probe': random N(0,1) inputs, zero targets. */
  source: 'task' | 'file' | 'probe';
  task?: string;
  T: number;
  B: number;
  seed?: number;
  /** Mean task loss of the model on this batch. */
  loss: number;
}

// ---------------------------------------------------------------------------------------------------------
// Bistability

export interface NeuronSummary {
  /** Fraction of time steps (first sequence) with the a-only flag set. */
  fractionBistable: number;
  /** Longest run of consecutive steps holding a stored branch (core/diagnostics/bistability branchSummary). */
  longestHold: number;
  /** Times a stored branch (reached while truly bistable) was overwritten by the other sign. */
  flipCount: number;
  /**
   * Of the layer's sampledSequences, those in which the neuron holds one branch for all T steps (no flip, a
   * hold of T − 1 steps or more, truly bistable at the last step). The fields above are the first sequence's.
   */
  heldIn?: number;
}

export interface Flip {
  neuron: number;
  /** Time index (0-based, state h_{t+1}) at which the branch changed. */
  t: number;
  from: -1 | 1;
  to: -1 | 1;
}

export interface BistabilityLayer {
  layer: number;
  cell: CellKind | string;
  units: number;
  T: number;
  /**
   * 'gain': BRC/nBRC, a_t read from the cell; 'self-map': any other cell, from each neuron's one-dimensional
   * self-map with the rest of the state and the input held at their trajectory values.
   */
  method: 'gain' | 'self-map';
  /** [t][j] feedback gain: a_t for BRC/nBRC; the self-map's largest slope for other cells (first sequence). */
  a: number[][];
  /** [t][j] 0/1: the a-only flag (a_t > 1; for self-map cells: slope > 1 somewhere, i.e. a fold is possible). */
  bistable: (0 | 1)[][];
  /** [t][j] number of fixed points of the neuron's own map at that step (1, 2 at a fold, or 3 = truly bistable). */
  fixedPoints: number[][];
  /** [t][j] −1 / +1: sign of the stable fixed point the neuron is attracted to (0 when that is h = 0 exactly). */
  branch: (-1 | 0 | 1)[][];
  /** [t][j] hidden state h_t (first sequence). */
  h: number[][];
  /** [t][j] update gate: BRC/nBRC c_t, GRU z_t, LSTM f_t; null for cells without one. */
  c: number[][] | null;
  /** [t][j] input drive u_t of the candidate (BRC/nBRC: x_t U); null where not defined. */
  drive: number[][] | null;
  flips: Flip[];
  neurons: NeuronSummary[];
  /** [t] fraction of neurons with the a-only flag, averaged over the batch. */
  fractionBistable: number[];
  /** [t] fraction of neurons truly bistable (three fixed points), averaged over the batch. */
  fractionTrulyBistable: number[];
  /** [t] mean update gate over neurons and batch; null without a gate. */
  meanC: number[] | null;
  /**
   * Sequences (the first ones of the batch) behind batch means that need per-sequence neuron maps:
   * fractionTrulyBistable always, fractionBistable for self-map cells. BRC/nBRC fractionBistable and meanC
   * use the whole batch.
   */
  sampledSequences?: number;
  /**
   * 95 % intervals per step of fractionBistable, fractionTrulyBistable and meanC (null: series absent). Neurons
   * of a sequence are not independent, so each sequence counts once: its mean over neurons, then the normal
   * interval of the mean over sequences (n = the sequences behind the series; core/diagnostics/fraction-intervals).
   * Absent in older reports.
   */
  intervals?: { fractionBistable: StepIntervals | null; fractionTrulyBistable: StepIntervals | null; meanC: StepIntervals | null };
  /** The same three averaged over all T steps (per sequence, then over sequences) with their intervals. Absent in older reports. */
  overall?: { fractionBistable: Estimate | null; fractionTrulyBistable: Estimate | null; meanC: Estimate | null };
  /**
   * Set when the neuron maps could not be computed for this layer (a cell that cannot be evaluated from an
   * arbitrary state); the per-step/per-neuron arrays are then empty, h and c are still given.
   */
  note?: string;
}

/** 95 % intervals of a per-step series: lo[t], hi[t] (null where fewer than 2 sequences give none). */
export interface StepIntervals {
  lo: (number | null)[];
  hi: (number | null)[];
  /** Sequences behind every step's interval. */
  n: number;
  /** 'normal': mean over sequences ± 1.96 standard errors, each sequence one sample (cluster-robust). */
  method: 'normal';
}

export interface BistabilityReport {
  layers: BistabilityLayer[];
  /** The paper's Figure 3 view: the first sequence's inputs and the task's hold period (core/diagnostics/input-alignment). */
  input?: InputAlignment;
}

export interface InputAlignment {
  /** [channel][t] the first sequence's input. */
  channels: number[][];
  /** Channel names ('x'; denoise 'value', 'marker'; smnist 'pixel'; else x[i]). */
  names: string[];
  /** Time steps the task marks as relevant (copy: 0; denoise: the 5 marked values). */
  markers: number[];
  /** Steps where the task asks the network to hold what it stored (inclusive), or null. */
  hold: { from: number; to: number } | null;
  /** Per layer, the averages over the hold period (null where the series is absent). */
  holdAverages: {
    layer: number;
    fractionBistable: number | null;
    fractionTrulyBistable: number | null;
    meanC: number | null;
    /**
     * The same averages with 95 % intervals: each sequence's hold-period mean, then the mean over sequences
     * (normal interval, n = sequences; see BistabilityLayer.intervals). Absent in older reports.
     */
    estimates?: { fractionBistable: Estimate | null; fractionTrulyBistable: Estimate | null; meanC: Estimate | null };
  }[];
}

// ---------------------------------------------------------------------------------------------------------
// Gradient flow

export interface DecayFit {
  kind: 'decay' | 'no-decay' | 'exploding';
  /** Time constant in steps of ‖∂L/∂h_t‖ ∝ exp(−(T − t)/tau), when kind is 'decay'. */
  tau: number | null;
  /** Ratio between the largest and smallest norm over time (orders of magnitude = log10). */
  dynamicRange: number;
  /**
   * Median over the batch's sequences of each sequence's ‖∂L/∂h_0‖ / ‖∂L/∂h_{T−1}‖ (below 1: smaller at the
   * start than at the end), with the order-statistic 95 % interval; kind is 'decay' only when the whole
   * interval lies below 1/10, 'exploding' only when above 10. Absent in older reports.
   */
  endRatio?: Estimate;
  /**
   * The norm grows through every quarter of the sequence going back (geometric means of the quarters
   * increase towards t = 0): growth that runs over the T steps, not a jump at one step. Absent in older reports.
   */
  steady?: boolean;
  /**
   * [t] median over the batch's sequences of each sequence's ‖∂L/∂h_t‖ / ‖∂L/∂h_{T−1}‖: the typical
   * sequence's gradient relative to the end (the sentence's "falls 10ᵏ× within N steps" reads it). Absent in
   * older reports.
   */
  medianRatio?: number[];
}

export interface GradientFlowLayer {
  layer: number;
  /** [t] ‖∂L/∂h_t‖, Frobenius over batch and units, L the batch-mean task loss. */
  norm: number[];
  /** [t][j] batch mean of |∂L/∂h_{t,j}|. */
  perNeuron: number[][];
  /** [t] estimate of the spectral norm ‖∂h_T/∂h_t‖: the central value of `jacobian` (one sequence in older reports). */
  jacobianNorm: number[];
  /**
   * [t] ‖∂h_T/∂h_t‖ over the sampled sequences (report.jacobianSequences, each with its own `probes` random
   * probes): value = median over sequences of the per-sequence probe bound σ_max(Vᵀ ∂h_T/∂h_t); lo/hi = the
   * order-statistic 95 % interval of that median (infinite below 6 sequences), hi widened by the probe
   * correction when jacobianLowerBound. Absent in older reports.
   */
  jacobian?: Estimate[];
  /**
   * probes < units: the value and lo are lower bounds of the norm; hi is widened to bound it from above
   * (with 97.5 % probability per sequence). false: probes span the state space, per-sequence norms are exact.
   */
  jacobianLowerBound?: boolean;
  decay: DecayFit;
  /** The whole interval of ‖∂h_T/∂h_1‖ (jacobian[0]) lies below thresholds.vanishing. */
  vanishing: boolean;
  /** The whole interval of ‖∂h_T/∂h_1‖ (jacobian[0]) lies above thresholds.exploding. */
  exploding: boolean;
}

export interface GradientFlowReport {
  layers: GradientFlowLayer[];
  /** Random orthonormal probes per sequence behind jacobianNorm (a lower-bound estimate; exact when probes = units). */
  probes?: number;
  /** Sequences of the batch behind `jacobian` (the first ones; --jacobian-sequences). Absent in older reports. */
  jacobianSequences?: number;
  /** vanishing: jacobian[0] surely below vanishing; exploding: surely above exploding. */
  thresholds?: { vanishing: number; exploding: number };
}

// ---------------------------------------------------------------------------------------------------------
// Memory retention (copy-first-input)

export interface RetentionReport {
  /** Error vs delay: MSE of the model's prediction of x_1 on copy-first-input sequences of each length. */
  delays: number[];
  mse: number[];
  /**
   * [i] mse[i] with its 95 % interval: the mean squared error over the retention batch's sequences, normal
   * approximation; n = sequences of the retention batch (--retention-batch).
   */
  mseEstimate?: Estimate[];
  /**
   * What "chance" means on this batch: the MSE of the best constant prediction of x_1, i.e. the batch variance
   * of x_1 (1 in expectation), with a bootstrap interval over the retention batch's sequences.
   */
  chance?: Estimate;
  probe: {
    /**
     * Ridge penalty relative to the mean feature variance (λ_abs = lambda · trace(XcᵀXc) / features, Xc the
     * centred training features): a number when it was fixed for every probe, 'gcv' when each probe chose its
     * own by generalized cross-validation on its training sequences (layers[].lambda; the default). Earlier
     * reports have a fixed 0.1, which biased R² down by up to 0.2 however many training sequences there were.
     */
    lambda: number | 'gcv';
    /** Sequences the probe is fitted on (--probe-train). */
    trainSequences: number;
    /** Held-out sequences it is scored on (the retention batch). */
    testSequences: number;
    /** Time indices (0-based, state h_{t+1}) at which r2 is given: r2[i] belongs to times[i]. */
    times?: number[];
    /**
     * r2[i]: held-out R² at times[i]; r2Estimate[i]: the same with a bootstrap interval over the test sequences
     * (the variability of the fit itself is not in it: it shrinks with trainSequences).
     */
    layers: {
      layer: number;
      r2: number[];
      r2Estimate?: Estimate[];
      /** [i] the relative λ GCV chose for the probe at times[i] (with lambda 'gcv'; NaN, null in JSON, if unfitted). */
      lambda?: number[];
    }[];
    /**
     * [i] R² for x_1 of the model's own readout applied to the last layer's state at times[i], on the same test
     * sequences (bootstrap interval): a lower bound for what a linear probe of the last layer can decode. A
     * probe well below it is underpowered (raise --probe-train).
     */
    readoutR2?: Estimate[];
  };
}

// ---------------------------------------------------------------------------------------------------------
// Fixed points of the full state map for a constant input

export interface FixedPoint {
  /** The full state (h, plus the cell state for LSTM). */
  state: number[];
  /** ‖F(h, x*) − h‖. */
  residual: number;
  /** Largest |eigenvalue| of the Jacobian of F at the point. */
  maxEigenvalue: number;
  stability: 'stable' | 'unstable' | 'marginal';
  /** True for a slow point (residual above the fixed-point tolerance). */
  slow: boolean;
  /** 2-D PCA projection. */
  pca: [number, number];
  /** Runs of the search (from observed states) that settled at this point. */
  runs?: number;
  /**
   * Points stable by their multiplier only: whether the dynamics returned from the point pushed by observed
   * input effects of median size (FixedPointSearch.inputEffect). False makes the point 'marginal'.
   */
  basinHeld?: boolean;
}

/**
 * How the bounded fixed-point search was run and what it found. Every count is a lower bound ("at least"):
 * a point no run came near is not found, so not finding a second attractor proves nothing.
 */
export interface FixedPointSearch {
  /** Runs of the dynamics under x*, each from an observed state of the batch (¼ mirrored −s, ¼ with noise). */
  starts: number;
  /** Sequences of the batch the starts were drawn from (in turn). */
  sequences: number;
  /** Most steps any run took (runs stop once settled). */
  steps: number;
  /** The step bound of every run (diagnose --fixed-point-steps). */
  maxSteps: number;
  /** Runs that settled: estimated distance to their limit below a tenth of the clustering radius. */
  settled: number;
  /** Distinct end states of the settled runs (clustered at clusterTolerance). */
  endStates: number;
  /** Candidates refined and classified: the largest end-state clusters, saddle and slow candidates, zero. */
  checked: number;
  /** Clustering tolerance: states closer than this RMS distance per coordinate are one state. */
  clusterTolerance: number;
  /** Margin δ: stable needs |λ|max ≤ 1 − δ (and a basin that holds), unstable |λ|max > 1 + δ, else marginal. */
  margin: number;
  /** Median ‖s_{t+1} − F(s_t, x*)‖ over sampled observed steps: the size of one step's input effect. */
  inputEffect: number;
  /** Observed steps behind inputEffect. */
  inputEffectSamples: number;
  /** Fixed points found by class, lower bounds; slow: slow points (residual above the fixed-point tolerance). */
  counts: { stable: number; unstable: number; marginal: number; slow: number };
  /** Share of runs that had not settled within maxSteps (Wilson interval, n = starts). */
  unsettled: Estimate;
  /** Share of runs that ended in the largest end-state cluster (Wilson interval, n = starts). */
  largestBasin: Estimate;
  /**
   * 'several-attractors': at least two stable points; 'one-attractor': every run settled, all at the one
   * stable point found; 'marginal': no second stable point but marginal or slow points (values held by slow
   * drift, e.g. along a line attractor); 'inconclusive': otherwise. BRC layers: from the exact per-neuron count
   * (several when a neuron is bistable with margin, marginal when none is but one is marginal, else one).
   */
  verdict: 'several-attractors' | 'one-attractor' | 'marginal' | 'inconclusive';
}

export interface FixedPointReport {
  layer: number;
  /** The constant model input x*. */
  input: number[];
  /** The constant input of the analysed layer: x* for layer 0, else the lower layers' settled response. */
  layerInput?: number[];
  points: FixedPoint[];
  /** Trajectories of the state under the constant input from a few starts, PCA-projected: [k][t] = [x, y]. */
  trajectories: [number, number][][];
  /** The observed trajectory of the first sequence, PCA-projected. */
  observed: [number, number][];
  explainedVariance: [number, number];
  /** Set when no search was possible (e.g. the layer's cell cannot be evaluated from an arbitrary state). */
  note?: string;
  /**
   * BRC layers only, exact: the recurrence is cellular, so the layer's fixed points are all combinations of
   * each neuron's own fixed points, and its stable states all combinations of their stable ones.
   */
  cellular?: CellularAttractors;
  /** How the search was run and its counts (absent in reports from before the bounded search was stated). */
  search?: FixedPointSearch;
}

export interface CellularAttractors {
  units: number;
  /**
   * [j] stable fixed points, with margin, of neuron j's map h ↦ c h + (1 − c) tanh(u + a h) under the constant
   * input: |F'| ≤ 1 − margin and a basin reaching further than inputEffect[j] on both sides. 0 when the neuron
   * has only marginal ones; 1 when all its roots are unstable (it settles on a cycle instead).
   */
  stablePerNeuron: number[];
  /** Neurons with two (or more) stable states. */
  bistableNeurons: number;
  /** log₂ of the number of stable states of the layer (Σ_j log₂ stablePerNeuron[j], marginal-only neurons left out). */
  log2StableStates: number;
  /** Margin δ of the classification (as FixedPointSearch.margin). */
  margin?: number;
  /** [j] marginal fixed points of neuron j: |F'| within margin of 1, or stable with a basin its input effect leaves. */
  marginalPerNeuron?: number[];
  /** Neurons with a marginal fixed point (an untrained BRC at a ≈ 1 has many): slow drift, not a stored bit. */
  marginalNeurons?: number;
  /** [j] median |h_{t+1,j} − F_j(h_{t,j})| over observed steps: the input's typical effect on neuron j. */
  inputEffect?: number[];
}

// ---------------------------------------------------------------------------------------------------------
// Memory attribution per neuron (core/diagnostics/memory.ts)

/**
 * A neuron that carries the target. Times are 0-based indices (state h_{t+1}) as everywhere in the report.
 * Per step t the neuron's score is the adjusted R² of the target from h_{t,j} across the batch's sequences
 * (regression: squared correlation; classes: η², the between-class share of the variance, i.e. the R² of a
 * one-way ANOVA), 0 where h_{t,j} varies less than `MemoryReport.minSpread` across sequences. Its window
 * [from, to] is the longest run of steps whose 95 % lower bound (Fisher z of the score's square root)
 * clears the threshold; it is a carrier when that run is at least `MemoryReport.minSteps` long and the 95 %
 * bootstrap interval of the window's score lies above the threshold.
 */
export interface MemoryCarrier {
  layer: number;
  neuron: number;
  /** First and last step of the window in which it carries the target. */
  from: number;
  to: number;
  /** Mean per-step score over the window (up to 16 evenly spaced steps of it, both ends included) = estimate.value. */
  score: number;
  /** The score with its 95 % bootstrap interval over sequences (n = sequences). */
  estimate: Estimate;
  /** Target component it carries best (denoise: the k-th marked value; 0 for copy and classes). */
  component: number;
  /** Regression targets: mean correlation of h with the target over the window (its sign); null for classes. */
  correlation: number | null;
  /** Mean feedback gain a over the window and the batch (BRC/nBRC); null for other cells. */
  a: number | null;
  /** Mean update gate over the window and the batch (BRC/nBRC c, GRU z, LSTM f); null without one. */
  c: number | null;
  /** BRC/nBRC: fraction of the window's neuron-steps (all sequences) with three fixed points (truly bistable). */
  bistable: number | null;
  /** BRC/nBRC: fraction of sequences on the upper (+) branch at step `to` (a latch of the target splits them). */
  upperBranch: number | null;
  /** BRC/nBRC: median of |u|/u*(a) over the window (< 1: inside the bistable band); null when mostly monostable (a ≤ 1). */
  margin: number | null;
  /** BRC/nBRC: median |λ|, λ = c + (1 − c)·a·(1 − tanh²(u + a·h_{t−1})), the slope of the neuron's own map with its gates held; null otherwise. */
  multiplier: number | null;
  /** [i] score at MemoryReport.times[i] (whole batch). */
  profile: number[];
  /** [s][i] h at MemoryReport.times[i] for the first `traced` sequences. */
  traces: number[][];
  /** [s] the target of those sequences (the component's value; the class label for classes). */
  targets: number[];
}

export interface MemoryLayer {
  layer: number;
  /** [j] each neuron's score over its window (0: no window of minSteps steps, e.g. a neuron that never changes). */
  score: number[];
  /** All carriers of this layer (neuron indices, strongest first as in carriers), including those beyond the listed top ones. */
  carrierNeurons: number[];
  /**
   * Neurons whose point scores reach the threshold for minSteps steps but not surely (per-step lower bounds
   * or the window's interval fall below it): more sequences decide.
   */
  inconclusive: number[];
  /**
   * Who holds the target at the end of the sequence (the steps memory.endWindow, where the task reads it):
   * each neuron's mean score over those steps with a bootstrap interval over sequences. The sentences count
   * these, as "between carriers.length and carriers.length + inconclusive.length neurons", because a count of
   * windowed carriers changes with the batch (brief echoes of the input cross the threshold or not).
   * Absent in older reports.
   */
  end?: MemoryEnd;
}

/** Neurons that hold the target over the last steps of the sequence (MemoryLayer.end). */
export interface MemoryEnd {
  /** Neurons whose end score's 95 % interval lies above the threshold, strongest first. */
  carriers: number[];
  /** Neurons whose end score's interval straddles the threshold (more sequences decide), strongest first. */
  inconclusive: number[];
  /**
   * The top carriers that stand apart from the rest: the longest run (at most 5) of the strongest carriers
   * whose intervals all lie at or above twice the threshold and whose last interval lies wholly above the
   * interval of the next neuron (carrier or inconclusive), so the names do not change with the batch. Empty
   * when no such run exists.
   */
  named: number[];
  /** End scores of `carriers` and `inconclusive` (bootstrap over sequences, n = memory.sequences). */
  scores: { neuron: number; estimate: Estimate }[];
}

export interface MemoryReport {
  /**
   * What is carried: 'x1' (copy), 'values' (denoise's marked values), 'class' (class labels: smnist or an
   * input file's labels), 'y' (an input file's regression targets). Per-step targets: those of the last step.
   */
  target: 'x1' | 'values' | 'class' | 'y';
  /** Number of target components (5 for denoise, 1 for copy and classes). */
  components: number;
  /** 'r2': adjusted squared correlation; 'eta2': adjusted η² across classes. */
  scoreKind: 'r2' | 'eta2';
  /** Score a carrier's interval must clear (default 0.1). */
  threshold: number;
  /** Shortest window that counts as carrying (default max(2, 5 % of T)). */
  minSteps: number;
  /** Smallest standard deviation of h across sequences at a step for it to score at all (default 0.01). */
  minSpread: number;
  /** [from, to]: the last minSteps steps, over which MemoryLayer.end scores who holds the target at the end. */
  endWindow?: [number, number];
  /** Sequences behind every score. */
  sequences: number;
  /**
   * True when the section ran on its own batch of the task (memory.sequences, default 256, --memory-batch):
   * single-neuron scores need more sequences than batch means. False: the diagnosed batch (e.g. --input).
   */
  ownBatch?: boolean;
  /** Total number of carriers in all layers (carriers lists at most the top ones). */
  total: number;
  /**
   * The strongest carriers first (at most `top`, default 20). Strength = score × window length (how much and
   * how long it carries the target), so a latch that holds it to the end ranks above a brief echo of the input.
   */
  carriers: MemoryCarrier[];
  layers: MemoryLayer[];
  /** Time indices of profile and traces (at most 200, evenly spaced, both ends included). */
  times: number[];
  /** Sequences traced per carrier (the first ones of the batch, at most 16). */
  traced: number;
  /** Set when no attribution was possible (e.g. random probe inputs have no target). */
  note?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Diagnosis in words

export interface DiagnosisSentence {
  text: string;
  severity: 'info' | 'good' | 'warning';
  /** JSON paths into this report that the sentence is computed from, e.g. "gradientFlow.layers[0].decay". */
  refs: string[];
}
