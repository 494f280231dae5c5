/**
 * The result of `rnn-memory sweep` (final copy-task MSE per cell and sequence length), as written to
 * DIR/sweep.json, and its markdown table (DIR/sweep.md).
 */
import type { CellKind } from '../cells/types';

export const SWEEP_VERSION = 1;

export type SweepRunStatus = 'pending' | 'running' | 'completed' | 'cancelled' | 'failed' | 'skipped';

export interface SweepRun {
  cell: CellKind;
  T: number;
  /** Run folder (relative to the sweep folder). */
  dir: string;
  status: SweepRunStatus;
  /** Test MSE at the last evaluation (the final step when completed). */
  finalMse: number | null;
  finalLoss: number | null;
  /** Steps done. */
  steps: number;
  elapsedMs: number | null;
  /** True when a completed run with the same configuration was found and not retrained. */
  reused?: boolean;
  error?: string;
}

export interface SweepReport {
  version: typeof SWEEP_VERSION;
  createdAt: string;
  updatedAt: string;
  task: 'copy';
  cells: CellKind[];
  T: number[];
  /** Shared training settings (per-run configs are in each run folder's config.json). */
  config: { steps: number; layers: number; units: number; batch: number; seed: number; lr: number; engine: string };
  runs: SweepRun[];
}

const fmt = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(3) : v.toExponential(2));

/** Markdown: a cell × T table of final MSE, then the settings and any runs that did not complete. */
export function sweepMarkdown(r: SweepReport): string {
  const lines: string[] = [];
  lines.push('# Copy-first-input sweep: final test MSE', '');
  lines.push(`| cell | ${r.T.map((t) => `T=${t}`).join(' | ')} |`);
  lines.push(`|---|${r.T.map(() => '---:').join('|')}|`);
  for (const cell of r.cells) {
    const cols = r.T.map((T) => {
      const run = r.runs.find((x) => x.cell === cell && x.T === T);
      if (!run) return '';
      if (run.status === 'completed') return run.finalMse === null ? 'n/a' : fmt(run.finalMse);
      return run.finalMse === null ? run.status : `${fmt(run.finalMse)} (${run.status})`;
    });
    lines.push(`| ${cell} | ${cols.join(' | ')} |`);
  }
  const c = r.config;
  lines.push('', `MSE 1 is chance (the variance of x_1). ${c.layers} layer${c.layers === 1 ? '' : 's'} × ${c.units} units, batch ${c.batch}, ${c.steps} steps, lr ${c.lr}, seed ${c.seed}, engine ${c.engine}.`);
  const bad = r.runs.filter((x) => x.status === 'failed' || x.status === 'cancelled' || x.status === 'skipped');
  if (bad.length) {
    lines.push('', 'Not completed:');
    for (const x of bad) lines.push(`- ${x.cell} T=${x.T}: ${x.status}${x.error ? ` (${x.error})` : ''}`);
  }
  return lines.join('\n') + '\n';
}
