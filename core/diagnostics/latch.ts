/**
 * A neuron holds one branch for a whole sequence when it never flips, holds for T − 1 steps or more and is
 * truly bistable (three fixed points) at the last step: latched by its own feedback, not pinned by the input.
 * Shared by the bistability section, which counts it per sampled sequence, and the sentences (and so the
 * webview), which read older reports that have only the first sequence's counts.
 */
export function holdsWholeSequence(flipCount: number, longestHold: number, lastCount: number, T: number): boolean {
  return flipCount === 0 && longestHold >= T - 1 && lastCount === 3;
}
