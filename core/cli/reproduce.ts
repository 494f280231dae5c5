/**
 * `rnn-memory reproduce [--budget quick|paper] [--seeds 1,2,3] [--parallel 2] [--out DIR]`: the paper's
 * qualitative table regenerated with this tool — copy-first-input at T ∈ {5, 50, 100, 300, 600}, denoising
 * N ∈ {0, 200}, sequential MNIST with N ∈ {0, 300} black pixels, for BRC, nBRC, GRU and LSTM — then each
 * first-seed model diagnosed, all on one page (DIR/sweep.html: tables, learning curves, diagnosis sentences).
 * `quick` shrinks networks, lengths and steps so that the whole grid shows the paper's ordering in about half
 * an hour on 2 cores; `paper` uses the paper's first code version's settings (days on a CPU).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CellKind } from '../cells/types';
import { describeReport } from '../diagnostics/sentences';
import { diagnose } from '../diagnostics/diagnose';
import type { DiagnosisSentence } from '../diagnostics/types';
import { cellResolver } from '../engine/index';
import { loadModel } from '../model/model-file';
import type { TaskKind } from '../tasks/types';
import { normalizeConfig } from '../train/config';
import { RUN_FILES } from '../train/run';
import type { TrainConfig } from '../train/types';
import { UsageError, type FlagReader } from './args';
import { engineFlag } from './input-limits';
import { escapeHtml } from '../report/html';
import { cellList, intList, jobDir, runSweep, type SweepJob } from './sweep';

export const REPRODUCE_HELP = `reproduce options:
  --budget quick|paper   quick: small networks and short runs, the whole table in about 27 min on
                         2 idle cores (default); paper: the paper's settings (2×100 copy, 4×100 denoise and
                         sMNIST, 30 000–40 000 steps; days on a CPU)
  --seeds LIST           seeds per configuration (1); the table shows mean ± sd over them
  --cells LIST           cells (brc,nbrc,gru,lstm)
  --parallel N           runs trained at once (2)
  --steps N, --units N, --test-size N   override the budget's value for every run
  --engine fast|native|wasm|reference
  --out DIR              output folder (reproduce-<budget>); rerunning continues where it stopped`;

interface Bench {
  task: TaskKind;
  /** [T, N] pairs of the table's columns. */
  columns: [number, number][];
  settings: Partial<TrainConfig>;
}

/**
 * Budgets. quick: chosen for the ordering, not the paper's numbers — 2 × 32 units and lr 1e-2 (as in the
 * demo, where a BRC learns copy at T = 100 in ~4000 steps), shorter denoise sequences (T = 100 with the
 * forbidden tail scaled from 200/400 to 50/100), and 600 sMNIST updates of a 2 × 64 network with the gradient
 * norm clipped at 1 (784 + N steps each).
 */
export const BUDGETS: Record<'quick' | 'paper', Bench[]> = {
  quick: [
    {
      task: 'copy',
      columns: [
        [5, 0],
        [50, 0],
        [100, 0],
        [300, 0],
        [600, 0],
      ],
      settings: { layers: 2, units: 32, batch: 64, lr: 1e-2, steps: 1200, testSize: 500 },
    },
    {
      task: 'denoise',
      columns: [
        [100, 0],
        [100, 50],
      ],
      settings: { layers: 2, units: 32, batch: 64, lr: 3e-3, steps: 1500, testSize: 500 },
    },
    {
      task: 'smnist',
      columns: [
        [784, 0],
        [784, 300],
      ],
      // 2 × 32 left nBRC at chance with 300 black pixels even after 1200 steps; 2 × 64 with clipping learns it.
      settings: { layers: 2, units: 64, batch: 64, lr: 3e-3, clipNorm: 1, steps: 600, testSize: 500 },
    },
  ],
  paper: [
    {
      task: 'copy',
      columns: [
        [5, 0],
        [50, 0],
        [100, 0],
        [300, 0],
        [600, 0],
      ],
      settings: { layers: 2, units: 100, batch: 100, lr: 1e-3, steps: 30_000 },
    },
    {
      task: 'denoise',
      columns: [
        [400, 0],
        [400, 200],
      ],
      settings: { layers: 4, units: 100, batch: 100, lr: 1e-3, steps: 30_000 },
    },
    {
      task: 'smnist',
      columns: [
        [784, 0],
        [784, 300],
      ],
      settings: { layers: 4, units: 100, batch: 100, lr: 1e-3, steps: 40_000 },
    },
  ],
};

export function reproduceJobs(
  budget: 'quick' | 'paper',
  cells: readonly CellKind[],
  seeds: readonly number[],
  extra: Partial<TrainConfig> = {},
): SweepJob[] {
  return BUDGETS[budget].flatMap((b) =>
    cells.flatMap((cell) =>
      b.columns.flatMap(([T, N]) =>
        seeds.map((seed) => {
          const partial = { ...b.settings, ...extra, task: b.task, cell, T, N, seed };
          const config = normalizeConfig({ evalEvery: Math.max(1, Math.ceil(partial.steps! / 20)), checkpointEvery: 1000, ...partial });
          return { dir: jobDir(config, true, seeds.length > 1), config };
        }),
      ),
    ),
  );
}

/** Diagnosis sentences of each configuration's first-seed model, as an HTML section. */
function diagnosisSection(outDir: string, jobs: SweepJob[], seed: number): string {
  const cells = cellResolver('fast');
  const parts: string[] = [
    '<h2>What the diagnosis says about each trained model</h2>',
    `<p>First seed (${seed}); each model on a fresh batch of its own task.</p>`,
  ];
  for (const j of jobs.filter((x) => x.config.seed === seed)) {
    const file = join(outDir, j.dir, RUN_FILES.model);
    if (!existsSync(file)) continue;
    let sentences: DiagnosisSentence[];
    try {
      const { model } = loadModel(file);
      const c = j.config;
      const report = diagnose(model, {
        task: c.task,
        T: c.T,
        N: c.N,
        batch: 64,
        seed: 7,
        cells,
        sections: ['bistability', 'gradientFlow', 'retention'],
      });
      sentences = report.diagnosis.length ? report.diagnosis : describeReport(report);
    } catch (e) {
      sentences = [{ text: `not diagnosed: ${(e as Error).message}`, severity: 'warning', refs: [] }];
    }
    parts.push(
      `<details><summary>${escapeHtml(j.dir)}</summary><ul>${sentences.map((s) => `<li class="${s.severity}">${escapeHtml(s.text)}</li>`).join('')}</ul></details>`,
    );
  }
  return parts.join('\n');
}

export async function cmdReproduce(f: FlagReader): Promise<number> {
  const budget = f.string('budget') ?? 'quick';
  if (budget !== 'quick' && budget !== 'paper') throw new UsageError(`--budget must be quick or paper (got "${budget}")`);
  const cells = cellList(f);
  const seeds = intList(f.string('seeds') ?? '1', 'seeds', 0);
  const parallel = f.int('parallel') ?? 2;
  if (parallel < 1) throw new UsageError(`--parallel must be at least 1 (got ${parallel})`);
  const engine = engineFlag(f);
  const overrides = Object.fromEntries(
    Object.entries({ steps: f.int('steps'), units: f.int('units'), testSize: f.int('test-size') }).filter(([, v]) => v !== undefined),
  );
  const outDir = f.string('out') ?? `reproduce-${budget}`;
  f.finish();
  const jobs = reproduceJobs(budget, cells, seeds, { ...overrides, ...(engine ? { engine } : {}) });
  return runSweep(jobs, {
    outDir,
    parallel,
    budget,
    afterTraining: () => {
      process.stderr.write('diagnosing the trained models…\n');
      return diagnosisSection(outDir, jobs, seeds[0]);
    },
  });
}
