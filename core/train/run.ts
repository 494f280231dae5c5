/**
 * The training loop with its files: used in-process by tests and inside the worker thread by the CLI and
 * the extension. A run directory holds config.json, run.json (status), metrics.jsonl (one line per
 * evaluation), checkpoint.safetensors (resumable state), model.safetensors (the current weights) and
 * model-best.safetensors (the weights at the best test metric so far: at a high learning rate the metric
 * fluctuates from one evaluation to the next, and the best point is what a user wants to keep).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveModel } from '../model/model-file';
import type { CellResolver } from '../model/network';
import { writeFileAtomic } from '../util/fs-atomic';
import { cellResolver, resolveEngine } from '../engine/index';
import type { CustomCellRef } from '../cells/types';
import { customCellsDisabledMessage } from '../custom/policy';
import { keepCellInFolder } from '../custom/confine';
import { cellSourcePath, loadCustomCells } from '../custom/resolve';
import { checkpointCustomRefs, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { normalizeConfig } from './config';
import { Trainer } from './trainer';
import type { TrainEvent } from './types';
import type { RunRequest } from './worker-protocol';

export interface RunOptions extends RunRequest {
  isCancelled: () => boolean;
  emit: (e: TrainEvent) => void;
  /** Overrides the cells of the run's configured engine (tests). */
  cells?: CellResolver;
  /** Notes such as a changed custom cell accepted through `customCell` (default: stderr). */
  warn?: (message: string) => void;
}

export interface RunStatus {
  status: 'running' | 'completed' | 'cancelled' | 'failed';
  step: number;
  totalSteps: number;
  skipped: number;
  updatedAt: string;
  lastLoss?: number;
  lastMetric?: number;
  metricName?: string;
  error?: string;
  engine?: string;
  /** Best test metric so far (lowest MSE, highest accuracy) and its step: the weights in model-best.safetensors. */
  best?: BestPoint;
}

export interface BestPoint {
  step: number;
  metric: number;
  metricName: 'mse' | 'accuracy';
}

export const RUN_FILES = {
  config: 'config.json',
  status: 'run.json',
  metrics: 'metrics.jsonl',
  checkpoint: 'checkpoint.safetensors',
  model: 'model.safetensors',
  best: 'model-best.safetensors',
} as const;

/** The run files already in `dir`: a new run there would overwrite them. */
export function existingRunFiles(dir: string): string[] {
  return Object.values(RUN_FILES).filter((f) => existsSync(join(dir, f)));
}

function improves(metric: number, metricName: BestPoint['metricName'], best: BestPoint | undefined): boolean {
  if (!Number.isFinite(metric)) return false;
  if (!best) return true;
  return metricName === 'accuracy' ? metric > best.metric : metric < best.metric;
}

/** run.json content from disk (untrusted: written by another run, a crash, or edited) → RunStatus, or null. */
export function parseRunStatus(v: unknown): RunStatus | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (!['running', 'completed', 'cancelled', 'failed'].includes(o.status as string)) return null;
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
  return {
    status: o.status as RunStatus['status'],
    step: num(o.step) ?? 0,
    totalSteps: num(o.totalSteps) ?? 0,
    skipped: num(o.skipped) ?? 0,
    updatedAt: typeof o.updatedAt === 'string' ? o.updatedAt : '',
    lastLoss: num(o.lastLoss),
    lastMetric: num(o.lastMetric),
    metricName: typeof o.metricName === 'string' ? o.metricName : undefined,
    error: typeof o.error === 'string' ? o.error.slice(0, 2000) : undefined,
    engine: typeof o.engine === 'string' ? o.engine : undefined,
    best: parseBest(o.best),
  };
}

function parseBest(v: unknown): BestPoint | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.step !== 'number' || !Number.isInteger(o.step) || typeof o.metric !== 'number' || !Number.isFinite(o.metric))
    return undefined;
  if (o.metricName !== 'mse' && o.metricName !== 'accuracy') return undefined;
  return { step: o.step, metric: o.metric, metricName: o.metricName };
}

/** The best point recorded in run.json, if its weights belong to the state being resumed (step ≤ resumed step). */
function previousBest(outDir: string, step: number): BestPoint | undefined {
  let b: BestPoint | undefined;
  try {
    b = parseRunStatus(JSON.parse(readFileSync(join(outDir, RUN_FILES.status), 'utf8')))?.best;
  } catch {
    // no readable status: start tracking afresh
  }
  return b && b.step <= step && existsSync(join(outDir, RUN_FILES.best)) ? b : undefined;
}

export function writeRunStatus(outDir: string, s: RunStatus): void {
  writeFileAtomic(join(outDir, RUN_FILES.status), JSON.stringify(s, null, 2) + '\n');
}

/**
 * Marks the run failed with `error`, keeping what its last run.json said (step, total, best, …) unless `at`
 * knows better: a failed run still says how far it got, not "step 0 of 0".
 */
export function writeFailedStatus(
  outDir: string,
  error: string,
  at: Partial<Pick<RunStatus, 'step' | 'totalSteps' | 'skipped'>> = {},
): void {
  let prev: RunStatus | null = null;
  try {
    prev = parseRunStatus(JSON.parse(readFileSync(join(outDir, RUN_FILES.status), 'utf8')));
  } catch {
    // no readable status: the counts start from zero
  }
  const known = Object.fromEntries(Object.entries(at).filter(([, v]) => v !== undefined));
  writeRunStatus(outDir, {
    step: 0,
    totalSteps: 0,
    skipped: 0,
    ...prev,
    ...known,
    status: 'failed',
    updatedAt: new Date().toISOString(),
    error,
  });
}

/** Keeps only metric lines up to `step` (a resumed run re-creates the later ones). */
function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        return (JSON.parse(line) as { step: number }).step <= step;
      } catch {
        return false;
      }
    });
  writeFileSync(path, kept.map((l) => l + '\n').join(''));
}

export function runTraining(opts: RunOptions): { step: number; reason: 'completed' | 'cancelled' } {
  const { outDir, emit } = opts;
  mkdirSync(outDir, { recursive: true });
  const ckptPath = join(outDir, RUN_FILES.checkpoint);
  const modelPath = join(outDir, RUN_FILES.model);
  const metricsPath = join(outDir, RUN_FILES.metrics);
  const bestPath = join(outDir, RUN_FILES.best);
  let best: BestPoint | undefined;
  let trainer: Trainer;
  let customBackend: string | undefined;
  // Custom cells are loaded (user code runs) before the checkpoint or model is parsed against their shapes.
  const prepareCustom = (refs: CustomCellRef[], override?: string): CustomCellRef | undefined => {
    if (refs.length === 0) return undefined;
    if (!opts.allowCustomCells) throw new Error(customCellsDisabledMessage(refs[0].name, refs[0].source));
    const warn = opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
    const def = loadCustomCells(refs, { baseDir: outDir, override, warn }).get(refs[0].sha256)!;
    customBackend = def.custom.backend;
    return override
      ? { name: def.custom.name, source: keepCellInFolder(def.custom.file, def.custom.sha256, outDir), sha256: def.custom.sha256 }
      : undefined;
  };
  if (opts.resume) {
    if (!existsSync(ckptPath)) throw new Error(`nothing to resume: ${ckptPath} does not exist`);
    const swapped = prepareCustom(checkpointCustomRefs(ckptPath), opts.customCell);
    const { config, resume } = loadCheckpoint(ckptPath);
    let cfg = opts.steps !== undefined ? normalizeConfig({ ...config, steps: opts.steps }) : config;
    if (swapped) {
      // The run continues with the given cell file; later checkpoints and the model record it.
      cfg = { ...cfg, custom: swapped };
      const arch = resume.model.arch;
      resume.model.arch = { ...arch, layers: arch.layers.map((l) => (l.cell === 'custom' ? { ...l, custom: swapped } : l)) };
      writeFileAtomic(join(outDir, RUN_FILES.config), JSON.stringify(cfg, null, 2) + '\n');
    }
    trainer = new Trainer(cfg, opts.cells ?? cellResolver(cfg.engine), resume, opts.dataPath);
    truncateMetrics(metricsPath, trainer.step);
    // After a crash the best weights may come from steps the resumed run will redo: then they are dropped.
    best = previousBest(outDir, trainer.step);
    if (!best) rmSync(bestPath, { force: true });
  } else {
    const cfg = normalizeConfig(opts.config ?? {});
    if (cfg.custom) {
      // The run keeps its own copy of the cell (models may only name cells inside their folder: core/custom/confine).
      cfg.custom = { ...cfg.custom, source: keepCellInFolder(cellSourcePath(cfg.custom, outDir), cfg.custom.sha256, outDir) };
      prepareCustom([cfg.custom]);
    }
    trainer = new Trainer(cfg, opts.cells ?? cellResolver(cfg.engine), undefined, opts.dataPath);
    writeFileAtomic(join(outDir, RUN_FILES.config), JSON.stringify(cfg, null, 2) + '\n');
    writeFileSync(metricsPath, '');
    rmSync(bestPath, { force: true });
  }
  const cfg = trainer.config;
  const interval = opts.progressIntervalMs ?? 250;
  const t0 = Date.now();
  let lastEmit = t0;
  let stepsSinceEmit = 0;
  let lossSinceEmit = 0;
  let lossSinceEval = 0;
  let stepsSinceEval = 0;
  let lastEval: { testLoss: number; metric: number; metricName: 'mse' | 'accuracy' } | undefined;
  const engineRan = customBackend ?? (opts.cells ? 'custom' : resolveEngine(cfg.engine));
  const status = (s: RunStatus['status'], extra: Partial<RunStatus> = {}): RunStatus => ({
    status: s,
    step: trainer.step,
    totalSteps: cfg.steps,
    skipped: trainer.skipped,
    updatedAt: new Date().toISOString(),
    lastLoss: lastEval?.testLoss,
    lastMetric: lastEval?.metric,
    metricName: lastEval?.metricName,
    engine: engineRan,
    best,
    ...extra,
  });
  const evaluate = () => {
    const e = trainer.evaluate();
    lastEval = e;
    const line = {
      step: trainer.step,
      testLoss: e.testLoss,
      metric: e.metric,
      metricName: e.metricName,
      trainLoss: stepsSinceEval > 0 ? lossSinceEval / stepsSinceEval : null,
      skipped: trainer.skipped,
      elapsedMs: Date.now() - t0,
    };
    writeFileSync(metricsPath, JSON.stringify(line) + '\n', { flag: 'a' });
    lossSinceEval = 0;
    stepsSinceEval = 0;
    emit({ type: 'eval', step: trainer.step, testLoss: e.testLoss, metric: e.metric, metricName: e.metricName });
    if (improves(e.metric, e.metricName, best)) {
      best = { step: trainer.step, metric: e.metric, metricName: e.metricName };
      saveModel(bestPath, trainer.model);
      writeRunStatus(outDir, status('running'));
    }
  };
  const checkpoint = () => {
    saveCheckpoint(ckptPath, cfg, trainer.snapshot());
    saveModel(modelPath, trainer.model);
    emit({ type: 'checkpoint', step: trainer.step, path: ckptPath });
  };
  writeRunStatus(outDir, status('running'));
  if (trainer.step === 0) evaluate();
  let reason: 'completed' | 'cancelled' = 'completed';
  while (trainer.step < cfg.steps) {
    if (opts.isCancelled()) {
      reason = 'cancelled';
      break;
    }
    const r = trainer.trainStep();
    if (Number.isFinite(r.loss)) {
      lossSinceEmit += r.loss;
      lossSinceEval += r.loss;
      stepsSinceEval++;
    }
    stepsSinceEmit++;
    const now = Date.now();
    const last = trainer.step === cfg.steps;
    if (now - lastEmit >= interval || last) {
      emit({
        type: 'progress',
        step: trainer.step,
        totalSteps: cfg.steps,
        loss: lossSinceEmit / Math.max(1, stepsSinceEmit),
        stepsPerSec: (stepsSinceEmit * 1000) / Math.max(1, now - lastEmit),
        ...(r.seqLen < trainer.task.seqLen ? { seqLen: r.seqLen } : {}),
        skipped: trainer.skipped,
        elapsedMs: now - t0,
        engine: engineRan,
      });
      lastEmit = now;
      stepsSinceEmit = 0;
      lossSinceEmit = 0;
    }
    if (trainer.step % cfg.evalEvery === 0 || last) evaluate();
    if (trainer.step % cfg.checkpointEvery === 0 && !last) {
      checkpoint();
      writeRunStatus(outDir, status('running'));
    }
  }
  checkpoint();
  writeRunStatus(outDir, status(reason === 'completed' ? 'completed' : 'cancelled'));
  emit({
    type: 'done',
    step: trainer.step,
    reason,
    modelPath,
    skipped: trainer.skipped,
    ...(best ? { best: { ...best, path: bestPath } } : {}),
  });
  return { step: trainer.step, reason };
}
