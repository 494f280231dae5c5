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
export type SectionName = 'bistability' | 'gradientFlow' | 'retention' | 'fixedPoints';
export const SECTION_NAMES: readonly SectionName[] = ['bistability', 'gradientFlow', 'retention', 'fixedPoints'];

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
   * Set when the neuron maps could not be computed for this layer (a cell that cannot be evaluated from an
   * arbitrary state); the per-step/per-neuron arrays are then empty, h and c are still given.
   */
  note?: string;
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
  holdAverages: { layer: number; fractionBistable: number | null; fractionTrulyBistable: number | null; meanC: number | null }[];
}

// ---------------------------------------------------------------------------------------------------------
// Gradient flow

export interface DecayFit {
  kind: 'decay' | 'no-decay' | 'exploding';
  /** Time constant in steps of ‖∂L/∂h_t‖ ∝ exp(−(T − t)/tau), when kind is 'decay'. */
  tau: number | null;
  /** Ratio between the largest and smallest norm over time (orders of magnitude = log10). */
  dynamicRange: number;
}

export interface GradientFlowLayer {
  layer: number;
  /** [t] ‖∂L/∂h_t‖, Frobenius over batch and units, L the batch-mean task loss. */
  norm: number[];
  /** [t][j] batch mean of |∂L/∂h_{t,j}|. */
  perNeuron: number[][];
  /** [t] estimate of the spectral norm ‖∂h_T/∂h_t‖ (first sequence). */
  jacobianNorm: number[];
  decay: DecayFit;
  vanishing: boolean;
  exploding: boolean;
}

export interface GradientFlowReport {
  layers: GradientFlowLayer[];
  /** Random orthonormal probes behind jacobianNorm (a lower-bound estimate; exact when probes = units). */
  probes?: number;
  /** vanishing: jacobianNorm[0] < vanishing; exploding: jacobianNorm[0] > exploding. */
  thresholds?: { vanishing: number; exploding: number };
}

// ---------------------------------------------------------------------------------------------------------
// Memory retention (copy-first-input)

export interface RetentionReport {
  /** Error vs delay: MSE of the model's prediction of x_1 on copy-first-input sequences of each length. */
  delays: number[];
  mse: number[];
  probe: {
    /** Ridge penalty used, relative to the mean feature variance (λ_abs = lambda · trace(XᵀX) / features). */
    lambda: number;
    trainSequences: number;
    testSequences: number;
    /** Time indices (0-based, state h_{t+1}) at which r2 is given: r2[i] belongs to times[i]. */
    times?: number[];
    layers: { layer: number; r2: number[] }[];
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
// Diagnosis in words

export interface DiagnosisSentence {
  text: string;
  severity: 'info' | 'good' | 'warning';
  /** JSON paths into this report that the sentence is computed from, e.g. "gradientFlow.layers[0].decay". */
  refs: string[];
}
