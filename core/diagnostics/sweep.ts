/**
 * The result of `rnn-memory sweep` and `rnn-memory reproduce`: one run per (task, cell, T, N, seed), the
 * mean ± spread of the final and best test metric over seeds for each (task, cell, T, N), learning curves
 * and the test set's own chance level, as written to DIR/sweep.json; its markdown tables (DIR/sweep.md).
 */
import type { CellKind } from '../cells/types';
import type { TaskKind } from '../tasks/types';

export const SWEEP_VERSION = 2;

export type SweepRunStatus = 'pending' | 'running' | 'completed' | 'cancelled' | 'failed' | 'skipped';

export interface SweepRun {
  task: TaskKind;
  cell: CellKind;
  T: number;
  /** denoise: forbidden tail; smnist: black pixels; absent for copy. */
  N?: number;
  seed: number;
  /** Run folder (relative to the sweep folder). */
  dir: string;
  status: SweepRunStatus;
  metricName: 'mse' | 'accuracy';
  /** Test metric at the last evaluation (the final step when completed). */
  finalMetric: number | null;
  /** The same as finalMetric when the metric is MSE (kept from version 1), else null. */
  finalMse: number | null;
  finalLoss: number | null;
  /** The best test metric over the run's evaluations and its step. */
  best: { step: number; metric: number } | null;
  /** Learning curve: [step, test metric] per evaluation (at most 200 points). */
  curve: [number, number][];
  /** The chance level of this run's test set (best input-free predictor), see core/tasks/chance. */
  chance: number | null;
  /** Steps done. */
  steps: number;
  elapsedMs: number | null;
  /** True when a completed run with the same configuration was found and not retrained. */
  reused?: boolean;
  error?: string;
}

/** Mean, sample standard deviation, extremes and count of one number over seeds. */
export interface Spread {
  mean: number;
  /** Sample standard deviation (0 for one seed). */
  sd: number;
  min: number;
  max: number;
  n: number;
}

export interface SweepGroup {
  task: TaskKind;
  cell: CellKind;
  T: number;
  N?: number;
  /** Over the completed seeds: the final and the best test metric. Null when no seed completed. */
  final: Spread | null;
  best: Spread | null;
  /** Mean chance level of the seeds' test sets. */
  chance: number | null;
  metricName: 'mse' | 'accuracy';
}

export interface SweepReport {
  version: typeof SWEEP_VERSION;
  createdAt: string;
  updatedAt: string;
  /** The first task (version 1 had only copy); `tasks` lists all. */
  task: TaskKind;
  tasks: TaskKind[];
  cells: CellKind[];
  T: number[];
  N: number[];
  seeds: number[];
  /** Training settings of the first run (per-run configs are in each run folder's config.json). */
  config: SweepSettings;
  /** Per task, the settings of its first run (they differ between tasks in `reproduce`). */
  taskConfigs?: Partial<Record<TaskKind, SweepSettings>>;
  runs: SweepRun[];
  groups: SweepGroup[];
  /** Set by `reproduce`: which budget produced it. */
  budget?: string;
}

export interface SweepSettings {
  steps: number;
  layers: number;
  units: number;
  batch: number;
  seed: number;
  lr: number;
  engine: string;
  /** Global-norm gradient clipping (absent or 0: off; older sweep.json files have none). */
  clipNorm?: number;
}

/** "2 layers × 32 units, batch 64, 1200 steps, lr 0.01" (", gradient norm clipped at 1" when clipping was on) */
export function settingsText(c: SweepSettings): string {
  const clip = c.clipNorm ? `, gradient norm clipped at ${c.clipNorm}` : '';
  return `${c.layers} layer${c.layers === 1 ? '' : 's'} × ${c.units} units, batch ${c.batch}, ${c.steps} steps, lr ${c.lr}${clip}`;
}

export function spread(values: readonly number[]): Spread | null {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return null;
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, sd, min: Math.min(...v), max: Math.max(...v), n: v.length };
}

const groupKey = (r: Pick<SweepRun, 'task' | 'cell' | 'T' | 'N'>) => `${r.task}|${r.cell}|${r.T}|${r.N ?? ''}`;

/** One group per (task, cell, T, N), in the order of their first run. */
export function sweepGroups(runs: readonly SweepRun[]): SweepGroup[] {
  const byKey = new Map<string, SweepRun[]>();
  for (const r of runs) byKey.set(groupKey(r), [...(byKey.get(groupKey(r)) ?? []), r]);
  return [...byKey.values()].map((rs) => {
    const done = rs.filter((r) => r.status === 'completed');
    const chances = rs.map((r) => r.chance).filter((c): c is number => c !== null);
    const g: SweepGroup = {
      task: rs[0].task,
      cell: rs[0].cell,
      T: rs[0].T,
      final: spread(done.map((r) => r.finalMetric ?? NaN)),
      best: spread(done.map((r) => r.best?.metric ?? NaN)),
      chance: chances.length ? chances.reduce((s, c) => s + c, 0) / chances.length : null,
      metricName: rs[0].metricName,
    };
    if (rs[0].N !== undefined) g.N = rs[0].N;
    return g;
  });
}

/** A metric in tables: 3 significant digits, exponent outside [1e-3, 1e4). */
export const formatMetric = (v: number) =>
  v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(3) : v.toExponential(2);

export function formatSpread(s: Spread | null): string {
  if (!s) return 'n/a';
  return s.n > 1 ? `${formatMetric(s.mean)} ± ${formatMetric(s.sd)}` : formatMetric(s.mean);
}

const TASK_TITLE: Record<TaskKind, string> = {
  copy: 'Copy-first-input (test MSE)',
  denoise: 'Denoising (test MSE)',
  smnist: 'Sequential MNIST with black pixels (test accuracy)',
};

/** The column a task's table varies: T for copy, N for denoise and smnist. */
export function columnOf(task: TaskKind, g: Pick<SweepGroup, 'T' | 'N'>): { label: string; value: number } {
  return task === 'copy' ? { label: `T=${g.T}`, value: g.T } : { label: `N=${g.N ?? 0}`, value: g.N ?? 0 };
}

/** Markdown: per task a cell × (T or N) table of final metric (mean ± sd over seeds; best in brackets). */
export function sweepMarkdown(r: SweepReport): string {
  const lines: string[] = [];
  const seeds = r.seeds.length;
  lines.push(
    `# ${r.budget ? `Reproduction (${r.budget} budget)` : 'Sweep'}: final test metric${seeds > 1 ? `, mean ± sd over ${seeds} seeds` : ''}`,
    '',
  );
  for (const task of r.tasks) {
    const gs = r.groups.filter((g) => g.task === task);
    const cols = [...new Map(gs.map((g) => [columnOf(task, g).label, columnOf(task, g)])).values()].sort((a, b) => a.value - b.value);
    lines.push(`## ${TASK_TITLE[task]}`, '');
    lines.push(`| cell | ${cols.map((c) => c.label).join(' | ')} |`);
    lines.push(`|---|${cols.map(() => '---:').join('|')}|`);
    for (const cell of r.cells) {
      const row = cols.map((c) => {
        const g = gs.find((x) => x.cell === cell && columnOf(task, x).label === c.label);
        if (!g) return '';
        const runs = r.runs.filter((x) => groupKey(x) === groupKey(g));
        const pending = runs.filter((x) => x.status !== 'completed').map((x) => x.status);
        const best = g.best && g.final && g.best.mean !== g.final.mean ? ` (best ${formatSpread(g.best)})` : '';
        return `${formatSpread(g.final)}${best}${pending.length ? ` [${pending.length} ${[...new Set(pending)].join('/')}]` : ''}`;
      });
      if (row.some((x) => x)) lines.push(`| ${cell} | ${row.join(' | ')} |`);
    }
    const chance = cols.map((c) => {
      const g = gs.find((x) => columnOf(task, x).label === c.label && x.chance !== null);
      return g ? formatMetric(g.chance!) : 'n/a';
    });
    lines.push(`| *chance (this test set)* | ${chance.join(' | ')} |`);
    const tc = r.taskConfigs?.[task];
    if (tc && r.tasks.length > 1) lines.push('', `${settingsText(tc)}.`);
    lines.push('');
  }
  const c = r.config;
  lines.push(
    `Chance is the metric of the best predictor that ignores the input on each run's own test set (MSE: the targets' variance; accuracy: the most frequent class). ` +
      `${r.tasks.length > 1 ? '' : `${settingsText(c)}, `}seeds ${r.seeds.join(', ')}, engine ${c.engine}.`,
  );
  const bad = r.runs.filter((x) => x.status === 'failed' || x.status === 'cancelled' || x.status === 'skipped');
  if (bad.length) {
    lines.push('', 'Not completed:');
    for (const x of bad)
      lines.push(
        `- ${x.task} ${x.cell} T=${x.T}${x.N !== undefined ? ` N=${x.N}` : ''} seed ${x.seed}: ${x.status}${x.error ? ` (${x.error})` : ''}`,
      );
  }
  return lines.join('\n') + '\n';
}
