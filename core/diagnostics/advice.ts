/**
 * The options a diagnosis sentence may advise changing, named for its reader: the CLI flag in the terminal
 * and the HTML report, the VS Code setting in the extension (which has no flags). Pure.
 */

/** Where the sentences are read: advice then names the CLI flag or the extension setting that acts on it. */
export type SentenceContext = 'cli' | 'extension';

/** Each option's CLI flag and its setting under `rnnMemory.` (every one declared in package.json). */
export const KNOBS = {
  clip: { flag: 'train --clip', setting: 'train.clipNorm' },
  batch: { flag: '--batch', setting: 'diagnostics.batch' },
  batchSample: { flag: '--batch-sample', setting: 'diagnostics.batchSample' },
  jacobianSequences: { flag: '--jacobian-sequences', setting: 'diagnostics.jacobianSequences' },
  jacobianProbes: { flag: '--jacobian-probes', setting: 'diagnostics.jacobianProbes' },
  retentionBatch: { flag: '--retention-batch', setting: 'diagnostics.retentionBatch' },
  probeTrain: { flag: '--probe-train', setting: 'diagnostics.probeTrain' },
  fixedPointSteps: { flag: '--fixed-point-steps', setting: 'diagnose.fixedPointSteps' },
  fixedPointStarts: { flag: '--fixed-point-starts', setting: 'diagnose.fixedPointStarts' },
  memoryBatch: { flag: '--memory-batch', setting: 'diagnose.memoryBatch' },
} as const;

export type Knob = keyof typeof KNOBS;

/** "--retention-batch" for the CLI, "setting rnnMemory.diagnostics.retentionBatch" in the extension. */
export function knob(ctx: SentenceContext, k: Knob): string {
  return ctx === 'extension' ? `setting rnnMemory.${KNOBS[k].setting}` : KNOBS[k].flag;
}
