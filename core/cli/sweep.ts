/**
 * `rnn-memory sweep --cells brc,nbrc,gru,lstm --T 5,50,100,300,600 [--steps …] [--parallel 2] --out DIR`:
 * trains every (cell, T) on copy-first-input, each in its own worker (at most --parallel at once), and
 * writes DIR/sweep.json (SweepReport) and DIR/sweep.md (final MSE table). A run folder that already holds
 * a completed run with the same configuration is reused, so an interrupted sweep can simply be rerun.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CELL_KINDS, type CellKind } from '../cells/types';
import { SWEEP_VERSION, sweepMarkdown, type SweepReport, type SweepRun } from '../diagnostics/sweep';
import { normalizeConfig } from '../train/config';
import { RUN_FILES, type RunStatus } from '../train/run';
import { startTraining, type TrainingHandle } from '../train/runner';
import type { TrainConfig } from '../train/types';
import { writeFileAtomic } from '../util/fs-atomic';
import { UsageError, type FlagReader } from './args';
import { sharedTrainFlags } from './train-flags';
import { formatDuration } from './progress';

export const SWEEP_HELP = `sweep options (copy-first-input; other train options as for train):
  --cells LIST       cells to compare (brc,nbrc,gru,lstm)
  --T LIST           sequence lengths (5,50,100,300,600)
  --steps N, --layers N, --units N, --batch N, --lr X, --seed N, --clip X, --curriculum N, --eval-every N, --test-size N
  --parallel N       runs trained at once, one worker each (2)
  --engine fast|reference
  --out DIR          sweep folder: one run folder per (cell, T), sweep.json, sweep.md (required)`;

function list(v: string, what: string): string[] {
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${what} needs at least one value`);
  if (new Set(items).size !== items.length) throw new UsageError(`--${what} lists a value twice`);
  return items;
}

/** Reads a finished run's final metric when its folder holds a completed run of exactly `config`. */
function completedRun(dir: string, config: TrainConfig): { mse: number | null; step: number } | null {
  try {
    const status = JSON.parse(readFileSync(join(dir, RUN_FILES.status), 'utf8')) as RunStatus;
    const saved = JSON.parse(readFileSync(join(dir, RUN_FILES.config), 'utf8')) as TrainConfig;
    if (status.status !== 'completed' || JSON.stringify(normalizeConfig(saved)) !== JSON.stringify(config)) return null;
    return { mse: typeof status.lastMetric === 'number' ? status.lastMetric : null, step: status.step };
  } catch {
    return null;
  }
}

export async function cmdSweep(f: FlagReader): Promise<number> {
  const cells = list(f.string('cells') ?? CELL_KINDS.join(','), 'cells');
  for (const c of cells) if (!(CELL_KINDS as readonly string[]).includes(c)) throw new UsageError(`--cells: unknown cell "${c}" (expected ${CELL_KINDS.join(', ')})`);
  const Ts = list(f.string('T') ?? '5,50,100,300,600', 'T').map((s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--T: "${s}" is not a positive integer`);
    return n;
  });
  const parallel = f.int('parallel') ?? 2;
  if (parallel < 1) throw new UsageError(`--parallel must be at least 1 (got ${parallel})`);
  const outDir = f.requireString('out');
  const shared: Partial<TrainConfig> = {
    task: 'copy',
    ...sharedTrainFlags(f),
  };
  f.finish();
  // Validate every configuration before starting anything; evaluate about 10 times per run by default.
  const jobs = cells.flatMap((cell) =>
    Ts.map((T) => {
      const partial = { ...shared, cell: cell as CellKind, T };
      const steps = normalizeConfig(partial).steps;
      const config = normalizeConfig({ evalEvery: Math.max(1, Math.ceil(steps / 10)), ...stripUndefined(partial) });
      return { cell: cell as CellKind, T, dir: `${cell}-T${T}`, config };
    }),
  );
  mkdirSync(outDir, { recursive: true });
  const c0 = jobs[0].config;
  const createdAt = new Date().toISOString();
  const runs: SweepRun[] = jobs.map((j) => ({ cell: j.cell, T: j.T, dir: j.dir, status: 'pending', finalMse: null, finalLoss: null, steps: 0, elapsedMs: null }));
  const write = () => {
    const report: SweepReport = {
      version: SWEEP_VERSION,
      createdAt,
      updatedAt: new Date().toISOString(),
      task: 'copy',
      cells: cells as CellKind[],
      T: Ts,
      config: { steps: c0.steps, layers: c0.layers, units: c0.units, batch: c0.batch, seed: c0.seed, lr: c0.lr, engine: c0.engine },
      runs,
    };
    writeFileAtomic(join(outDir, 'sweep.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileAtomic(join(outDir, 'sweep.md'), sweepMarkdown(report));
  };
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
  const label = (i: number) => `[${done}/${total}] ${jobs[i].cell} T=${jobs[i].T}`;

  const runOne = async (i: number): Promise<void> => {
    const job = jobs[i];
    const run = runs[i];
    const dir = join(outDir, job.dir);
    const prior = existsSync(dir) ? completedRun(dir, job.config) : null;
    if (prior) {
      Object.assign(run, { status: 'completed', finalMse: prior.mse, steps: prior.step, reused: true });
      done++;
      process.stderr.write(`${label(i)}: reused the completed run in ${dir} (MSE ${prior.mse?.toPrecision(4) ?? 'n/a'})\n`);
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
          run.finalMse = e.metric;
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
      run.status = res.reason === 'completed' ? 'completed' : 'cancelled';
      run.steps = res.step;
    } catch (e) {
      run.status = 'failed';
      run.error = e instanceof Error ? e.message : String(e);
    } finally {
      running.delete(handle);
    }
    run.elapsedMs = Date.now() - t0;
    done++;
    const mse = run.finalMse === null ? 'n/a' : run.finalMse.toPrecision(4);
    process.stderr.write(`${label(i)}: ${run.status}${run.error ? ` (${run.error})` : ''}, final MSE ${mse} in ${formatDuration(run.elapsedMs)}\n`);
    write();
  };

  const worker = async () => {
    while (!stopping && next < jobs.length) await runOne(next++);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  } finally {
    process.off('SIGINT', onSigint);
  }
  for (const r of runs) if (r.status === 'pending') r.status = 'skipped';
  write();
  process.stderr.write(`${sweepMarkdown(JSON.parse(readFileSync(join(outDir, 'sweep.json'), 'utf8')) as SweepReport)}wrote ${join(outDir, 'sweep.json')} and sweep.md\n`);
  if (runs.some((r) => r.status === 'failed')) return 1;
  return stopping ? 130 : 0;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
