/**
 * Sequence-length curriculum: during the first `curriculum` updates, training batches are shorter than the
 * task's length T and grow in equal-step stages along a geometric ladder (ratio ≈ 1.5) up to T; afterwards
 * every batch has length T. Evaluation always uses the full-length test set.
 *
 * Why: on copy-first-input a 1-layer BRC must learn to close its write gate c after the first step
 * (large w_c, large U). Started at full length it often sits on the sign-only plateau (MSE ≈ 0.35) for
 * tens of thousands of updates; on short sequences the first input dominates the loss, so the mechanism
 * appears early and only has to be stretched (measurements in the README, "Training").
 * The stage is a pure function of the step count, so checkpoints resume exactly.
 */
import { DENOISE_MARKED } from '../tasks/denoise';
import type { TrainConfig } from './types';

/** Ratio between consecutive stage lengths (before rounding to whole steps). */
const STAGE_RATIO = 1.5;

export interface CurriculumStage {
  /** Sequence length (copy) or noise steps (denoise) of this stage's batches. */
  T: number;
  /** denoise: forbidden tail scaled with T; copy: 0. */
  N: number;
  /** First update (0-based step count) of the stage. */
  fromStep: number;
}

/** Shortest usable length: copy needs 2 steps (something to hold), denoise room for the marked values. */
function minLength(task: TrainConfig['task'], T: number, N: number): number {
  if (task === 'copy') return 2;
  for (let L = DENOISE_MARKED; L < T; L++) if (L - scaledTail(L, T, N) >= DENOISE_MARKED) return L;
  return T;
}

function scaledTail(L: number, T: number, N: number): number {
  return Math.floor((N * L) / T);
}

/** The stages below full length for `config` (empty when the curriculum is off or T is already minimal). */
export function curriculumStages(config: Pick<TrainConfig, 'task' | 'T' | 'N' | 'curriculum'>): CurriculumStage[] {
  if (!(config.curriculum > 0) || config.task === 'smnist') return [];
  const { T, N } = config;
  const lo = minLength(config.task, T, N);
  if (lo >= T) return [];
  const K = Math.max(1, Math.ceil(Math.log(T / lo) / Math.log(STAGE_RATIO)));
  const lengths: number[] = [];
  for (let k = 0; k < K; k++) {
    const L = Math.round(lo * Math.pow(T / lo, k / K));
    if (L < T && L !== lengths[lengths.length - 1]) lengths.push(L);
  }
  const per = Math.floor(config.curriculum / lengths.length);
  return lengths.map((L, k) => ({
    T: L,
    N: config.task === 'denoise' ? scaledTail(L, T, N) : 0,
    fromStep: k * per,
  }));
}

/** Length used by the update that follows `step` completed updates: a stage's, or undefined for full length. */
export function stageAt(stages: readonly CurriculumStage[], curriculum: number, step: number): CurriculumStage | undefined {
  if (step >= curriculum) return undefined;
  let s: CurriculumStage | undefined;
  for (const st of stages) if (st.fromStep <= step) s = st;
  return s;
}
