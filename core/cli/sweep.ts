/**
 * `rnn-memory sweep [--task copy|denoise|smnist] --cells brc,nbrc,gru,lstm --T 5,50,… [--N 0,200]
 * [--seeds 1,2,3] [--steps …] [--parallel 2] --out DIR`: trains every (cell, T, N, seed), each in its own
 * worker (at most --parallel at once), and writes DIR/sweep.json (SweepReport: mean ± sd over seeds, best
 * and final metric, learning curves, the test set's chance level), DIR/sweep.md and DIR/sweep.html. A run
 * folder that already holds a completed run with the same configuration is reused, so an interrupted sweep
 * can simply be rerun.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CELL_KINDS, type CellKind } from '../cells/types';
import { SWEEP_VERSION, sweepGroups, sweepMarkdown, type SweepReport, type SweepRun, type SweepSettings } from '../diagnostics/sweep';
import { renderSweepHtml } from '../report/sweep-html';
import { testChance } from '../tasks/chance';
import type { TaskKind } from '../tasks/types';
import { normalizeConfig } from '../train/config';
import { readMetricsFile } from '../train/metrics-file';
import { parseRunStatus, RUN_FILES } from '../train/run';
import { startTraining, type TrainingHandle } from '../train/runner';
import type { TrainConfig } from '../train/types';
import { writeFileAtomic } from '../util/fs-atomic';
import { UsageError, type FlagReader } from './args';
import { sharedTrainFlags } from './train-flags';
import { formatDuration } from './progress';

export const SWEEP_HELP = `sweep options (other train options as for train):
  --task copy|denoise|smnist   benchmark (copy)
  --cells LIST       cells to compare (brc,nbrc,gru,lstm)
  --T LIST           sequence lengths, copy and denoise (copy 5,50,100,300,600; denoise 400)
  --N LIST           denoise: forbidden tails (200); smnist: black pixels (300)
  --seeds LIST       seeds: every configuration is trained once per seed and reported as mean ± sd (--seed)
  --steps N, --layers N, --units N, --batch N, --lr X, --clip X, --curriculum N, --eval-every N, --test-size N
  --parallel N       runs trained at once, one worker each (2)
  --engine fast|native|wasm|reference
  --out DIR          sweep folder: one run folder per configuration and seed, sweep.json, sweep.md, sweep.html (required)`;

export function list(v: string, what: string): string[] {
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${what} needs at least one value`);
  if (new Set(items).size !== items.length) throw new UsageError(`--${what} lists a value twice`);
  return items;
}

/** --cells: built-in cells, each once (default all four). */
export function cellList(f: FlagReader): CellKind[] {
  const cells = list(f.string('cells') ?? CELL_KINDS.join(','), 'cells');
  for (const c of cells)
    if (!(CELL_KINDS as readonly string[]).includes(c))
      throw new UsageError(`--cells: unknown cell "${c}" (expected ${CELL_KINDS.join(', ')})`);
  return cells as CellKind[];
}

export function intList(v: string, what: string, min: number): number[] {
  return list(v, what).map((s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < min)
      throw new UsageError(`--${what}: "${s}" is not ${min === 0 ? 'a non-negative' : 'a positive'} integer`);
    return n;
  });
}

/** One training of a sweep: a full configuration and its folder (relative to the sweep folder). */
export interface SweepJob {
  dir: string;
  config: TrainConfig;
}

/** Reads a finished run's metrics when its folder holds a completed run of exactly `config`. */
function completedRun(dir: string, config: TrainConfig): { step: number } | null {
  try {
    const status = parseRunStatus(JSON.parse(readFileSync(join(dir, RUN_FILES.status), 'utf8')));
    const saved = JSON.parse(readFileSync(join(dir, RUN_FILES.config), 'utf8')) as TrainConfig;
    if (status?.status !== 'completed' || JSON.stringify(normalizeConfig(saved)) !== JSON.stringify(config)) return null;
    return { step: status.step };
  } catch {
    return null;
  }
}

/** Final, best and learning curve of a run folder, from its metrics.jsonl. */
function runMetrics(dir: string, metricName: 'mse' | 'accuracy'): Pick<SweepRun, 'finalMetric' | 'finalLoss' | 'best' | 'curve'> {
  const lines = readMetricsFile(dir).filter((m) => m.metric !== undefined);
  const last = lines.at(-1);
  let best: SweepRun['best'] = null;
  for (const m of lines)
    if (!best || (metricName === 'accuracy' ? m.metric! > best.metric : m.metric! < best.metric))
      best = { step: m.step, metric: m.metric! };
  const every = Math.max(1, Math.ceil(lines.length / 200));
  const curve = lines.filter((_, i) => i % every === 0 || i === lines.length - 1).map((m) => [m.step, m.metric!] as [number, number]);
  return { finalMetric: last?.metric ?? null, finalLoss: last?.testLoss ?? null, best, curve };
}

/** The folder name of a job: cell, T, N where the task has one, seed where several are swept. */
export function jobDir(c: Pick<TrainConfig, 'task' | 'cell' | 'T' | 'N' | 'seed'>, withTask: boolean, withSeed: boolean): string {
  return `${withTask ? `${c.task}-` : ''}${c.cell}-T${c.T}${c.task === 'copy' ? '' : `-N${c.N}`}${withSeed ? `-seed${c.seed}` : ''}`;
}

export async function cmdSweep(f: FlagReader): Promise<number> {
  const task = (f.string('task') ?? 'copy') as TaskKind;
  if (!['copy', 'denoise', 'smnist'].includes(task))
    throw new UsageError(`--task: unknown task "${task}" (expected copy, denoise or smnist)`);
  const cells = cellList(f);
  const tFlag = f.string('T');
  if (task === 'smnist' && tFlag !== undefined)
    throw new UsageError('--T does not apply to smnist (always 784 pixels); use --N for black pixels');
  const Ts = task === 'smnist' ? [784] : intList(tFlag ?? (task === 'copy' ? '5,50,100,300,600' : '400'), 'T', 1);
  const nFlag = f.string('N');
  if (task === 'copy' && nFlag !== undefined) throw new UsageError('--N does not apply to copy');
  const Ns = task === 'copy' ? [0] : intList(nFlag ?? (task === 'denoise' ? '200' : '300'), 'N', 0);
  const shared: Partial<TrainConfig> = { task, ...sharedTrainFlags(f) };
  const seedsFlag = f.string('seeds');
  const seeds = seedsFlag !== undefined ? intList(seedsFlag, 'seeds', 0) : [shared.seed ?? 1];
  const parallel = f.int('parallel') ?? 2;
  if (parallel < 1) throw new UsageError(`--parallel must be at least 1 (got ${parallel})`);
  const outDir = f.requireString('out');
  f.finish();
  // Validate every configuration before starting anything; evaluate about 10 times per run by default.
  const jobs: SweepJob[] = cells.flatMap((cell) =>
    Ts.flatMap((T) =>
      Ns.flatMap((N) =>
        seeds.map((seed) => {
          const partial = { ...stripUndefined(shared), cell: cell as CellKind, T, N, seed };
          const steps = normalizeConfig(partial).steps;
          const config = normalizeConfig({ evalEvery: Math.max(1, Math.ceil(steps / 10)), ...partial });
          return { dir: jobDir(config, false, seedsFlag !== undefined), config };
        }),
      ),
    ),
  );
  return runSweep(jobs, { outDir, parallel });
}

/**
 * Trains the jobs (reusing completed runs), keeping DIR/sweep.json, sweep.md and sweep.html up to date after
 * every change; returns the exit code (1 when a run failed, 130 when stopped).
 */
/**
 * `afterTraining` (when training was not stopped) returns HTML appended to the final sweep.html, e.g.
 * reproduce's diagnosis of every trained model.
 */
export async function runSweep(
  jobs: SweepJob[],
  o: { outDir: string; parallel: number; budget?: string; afterTraining?: () => string },
): Promise<number> {
  const { outDir } = o;
  mkdirSync(outDir, { recursive: true });
  const c0 = jobs[0].config;
  const createdAt = new Date().toISOString();
  const metricNameOf = (t: TaskKind) => (t === 'smnist' ? 'accuracy' : 'mse') as 'mse' | 'accuracy';
  const runs: SweepRun[] = jobs.map(({ dir, config: c }) => ({
    task: c.task,
    cell: c.cell as CellKind,
    T: c.T,
    ...(c.task === 'copy' ? {} : { N: c.N }),
    seed: c.seed,
    dir,
    status: 'pending',
    metricName: metricNameOf(c.task),
    finalMetric: null,
    finalMse: null,
    finalLoss: null,
    best: null,
    curve: [],
    chance: null,
    steps: 0,
    elapsedMs: null,
  }));
  const uniq = <T>(xs: T[]) => [...new Set(xs)];
  const report = (): SweepReport => ({
    version: SWEEP_VERSION,
    createdAt,
    updatedAt: new Date().toISOString(),
    task: c0.task,
    tasks: uniq(jobs.map((j) => j.config.task)),
    cells: uniq(jobs.map((j) => j.config.cell as CellKind)),
    T: uniq(jobs.map((j) => j.config.T)).sort((a, b) => a - b),
    N: uniq(jobs.filter((j) => j.config.task !== 'copy').map((j) => j.config.N)).sort((a, b) => a - b),
    seeds: uniq(jobs.map((j) => j.config.seed)),
    config: settingsOf(c0),
    taskConfigs: Object.fromEntries(
      uniq(jobs.map((j) => j.config.task)).map((t) => [t, settingsOf(jobs.find((j) => j.config.task === t)!.config)]),
    ),
    runs,
    groups: sweepGroups(runs),
    ...(o.budget ? { budget: o.budget } : {}),
  });
  let extraHtml = '';
  const write = () => {
    const r = report();
    writeFileAtomic(join(outDir, 'sweep.json'), JSON.stringify(r, null, 2) + '\n');
    writeFileAtomic(join(outDir, 'sweep.md'), sweepMarkdown(r));
    writeFileAtomic(join(outDir, 'sweep.html'), renderSweepHtml(r, extraHtml));
  };
  const finish = (run: SweepRun, dir: string, status: SweepRun['status']) => {
    Object.assign(run, runMetrics(dir, run.metricName), { status });
    run.finalMse = run.metricName === 'mse' ? run.finalMetric : null;
  };
  // The chance level of each run's test set (regenerated from its seed; cheap next to training).
  for (const [i, j] of jobs.entries()) {
    try {
      runs[i].chance = testChance({
        task: j.config.task,
        T: j.config.T,
        N: j.config.N,
        seed: j.config.seed,
        testSize: j.config.testSize,
      }).metric;
    } catch {
      runs[i].chance = null;
    }
  }
  write();

  const running = new Set<TrainingHandle>();
  let stopping = false;
  const onSigint = () => {
    if (stopping) {
      for (const h of running) void h.kill();
      return;
    }
    stopping = true;
    process.stderr.write('\nstopping: running trainings save a checkpoint; rerun the same command to continue…\n');
    for (const h of running) h.cancel();
  };
  process.on('SIGINT', onSigint);
  let next = 0;
  let done = 0;
  const total = jobs.length;
  const label = (i: number) => `[${done}/${total}] ${runs[i].dir}`;
  const fmtMetric = (r: SweepRun) => (r.finalMetric === null ? 'n/a' : r.finalMetric.toPrecision(4));

  const runOne = async (i: number): Promise<void> => {
    const job = jobs[i];
    const run = runs[i];
    const dir = join(outDir, job.dir);
    const prior = existsSync(dir) ? completedRun(dir, job.config) : null;
    if (prior) {
      finish(run, dir, 'completed');
      Object.assign(run, { steps: prior.step, reused: true });
      done++;
      process.stderr.write(`${label(i)}: reused the completed run in ${dir} (${run.metricName} ${fmtMetric(run)})\n`);
      write();
      return;
    }
    const t0 = Date.now();
    run.status = 'running';
    write();
    let lastPrint = 0;
    const handle = startTraining({
      outDir: dir,
      config: job.config,
      onEvent: (e) => {
        if (e.type === 'eval') {
          run.finalMetric = e.metric;
          run.finalLoss = e.testLoss;
          run.steps = e.step;
        } else if (e.type === 'progress' && Date.now() - lastPrint > 10_000) {
          lastPrint = Date.now();
          process.stderr.write(`${label(i)}: step ${e.step}/${e.totalSteps} loss ${e.loss.toPrecision(4)}\n`);
        }
      },
    });
    running.add(handle);
    try {
      const res = await handle.done;
      finish(run, dir, res.reason === 'completed' ? 'completed' : 'cancelled');
      run.steps = res.step;
    } catch (e) {
      run.status = 'failed';
      run.error = e instanceof Error ? e.message : String(e);
    } finally {
      running.delete(handle);
    }
    run.elapsedMs = Date.now() - t0;
    done++;
    process.stderr.write(
      `${label(i)}: ${run.status}${run.error ? ` (${run.error})` : ''}, final ${run.metricName} ${fmtMetric(run)} in ${formatDuration(run.elapsedMs)}\n`,
    );
    write();
  };

  const worker = async () => {
    while (!stopping && next < jobs.length) await runOne(next++);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(o.parallel, jobs.length) }, worker));
  } finally {
    process.off('SIGINT', onSigint);
  }
  for (const r of runs) if (r.status === 'pending') r.status = 'skipped';
  if (o.afterTraining && !stopping) extraHtml = o.afterTraining();
  write();
  process.stderr.write(`${sweepMarkdown(report())}wrote ${join(outDir, 'sweep.json')}, sweep.md and sweep.html\n`);
  if (runs.some((r) => r.status === 'failed')) return 1;
  return stopping ? 130 : 0;
}

function settingsOf(c: TrainConfig): SweepSettings {
  return {
    steps: c.steps,
    layers: c.layers,
    units: c.units,
    batch: c.batch,
    seed: c.seed,
    lr: c.lr,
    engine: c.engine,
    ...(c.clipNorm ? { clipNorm: c.clipNorm } : {}),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
