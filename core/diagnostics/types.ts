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
    /** Ridge penalty used, relative to the mean feature variance (λ_abs = lambda · trace(XᵀX) / features). */
    lambda: number;
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
    layers: { layer: number; r2: number[]; r2Estimate?: Estimate[] }[];
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
}

export interface CellularAttractors {
  units: number;
  /** [j] stable fixed points of neuron j's map h ↦ c h + (1 − c) tanh(u + a h) under the constant input. */
  stablePerNeuron: number[];
  /** Neurons with two (or more) stable states. */
  bistableNeurons: number;
  /** log₂ of the number of stable states of the layer (Σ_j log₂ stablePerNeuron[j]). */
  log2StableStates: number;
}

// ---------------------------------------------------------------------------------------------------------
// Diagnosis in words

export interface DiagnosisSentence {
  text: string;
  severity: 'info' | 'good' | 'warning';
  /** JSON paths into this report that the sentence is computed from, e.g. "gradientFlow.layers[0].decay". */
  refs: string[];
}
