/**
 * The one entry point of the diagnostics: runs a model on a batch and returns the DiagnosticReport used by
 * the CLI (JSON/HTML) and the extension's panels. Everything goes through `cells` (a fast engine when
 * given): every engine's cells honour initialState, so single-step work (self-maps, fixed points) uses them too.
 */
import { referenceCell } from '../cells/index';
import type { Model } from '../model/model';
import { computeLoss, forward, type CellResolver } from '../model/network';
import { tensorSize } from '../model/model';
import { analyzeBistability } from './bistability';
import { describeReport, type ReportBody, type SentenceContext } from './sentences';
import { analyzeFixedPoints, type FixedPointOptions } from './fixed-points';
import { analyzeGradientFlow } from './gradient-flow';
import { inputAlignment } from './input-alignment';
import { nonFiniteWeightsSentence } from './nonfinite-warning';
import { analyzeMemory, memoryBatchSize, type MemoryOptions } from './memory';
import { checkDiagnoseWork } from './limits';
import { taskInput, type DiagnoseInput, type TaskInputOptions } from './input';
import { analyzeRetention, type RetentionOptions } from './retention';
import type { TaskKind } from '../tasks/types';
import { REPORT_VERSION, SECTION_NAMES, type BistabilityReport, type DiagnosticReport, type InputSummary, type SectionName } from './types';

export interface DiagnoseOptions extends TaskInputOptions {
  /** An explicit batch (otherwise one is generated from task/T/N/batch/seed). */
  input?: DiagnoseInput;
  /** Sections to compute (default all); the others are left empty. */
  sections?: readonly SectionName[];
  /** Cells for every forward/backward pass (default: reference). */
  cells?: CellResolver;
  /** Sequences behind batch means that need per-sequence neuron maps (default: defaultBatchSample per layer). */
  batchSample?: number;
  /** Random probes per sequence of the Jacobian-norm estimate (default 8; --jacobian-probes). */
  probes?: number;
  /** Sequences of the batch behind the Jacobian-norm estimate (default 16; --jacobian-sequences). */
  jacobianSequences?: number;
  retention?: Partial<Omit<RetentionOptions, 'cells' | 'T'>>;
  fixedPoints?: Partial<Omit<FixedPointOptions, 'cells'>>;
  /** Memory attribution per neuron (threshold, minSteps, batch, …; see core/diagnostics/memory.ts). */
  memory?: Omit<MemoryOptions, 'task' | 'seed' | 'ownBatch'> & { batch?: number };
  modelPath?: string;
  modelName?: string;
  /** Called with the batch's size once it passed the memory budget, before the model runs on it (the CLI
   * announces its engine here, so that a refused batch stays a one-line error); throws to refuse. */
  beforeRun?: (T: number, B: number) => void;
  /** Who reads the sentences: advice names CLI flags (default) or extension settings. */
  sentenceContext?: SentenceContext;
}

export function diagnose(model: Model, opts: DiagnoseOptions = {}): DiagnosticReport {
  const timings: Record<string, number> = {};
  const t0 = performance.now();
  let last = t0;
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = now - last;
    last = now;
  };
  const { arch } = model;
  const cells = opts.cells ?? referenceCell;
  const sections = opts.sections ? [...new Set(opts.sections)] : [...SECTION_NAMES];
  for (const s of sections)
    if (!SECTION_NAMES.includes(s)) throw new Error(`unknown section "${s}" (expected ${SECTION_NAMES.join(', ')})`);
  const want = (s: SectionName) => sections.includes(s);

  let input: DiagnoseInput;
  let taskN = 0;
  let summary: Omit<InputSummary, 'loss'>;
  if (opts.input) {
    input = opts.input;
    const { x, T, B } = input;
    if (!(Number.isInteger(T) && T >= 1 && Number.isInteger(B) && B >= 1))
      throw new Error(`input: T and B must be positive integers (got T=${T}, B=${B})`);
    if (x.length !== T * B * arch.inputSize)
      throw new Error(`input: x has ${x.length} values, expected T*B*inputSize = ${T}*${B}*${arch.inputSize}`);
    checkDiagnoseWork(arch, T, B, opts.memoryLimitMb);
    summary = { source: input.source ?? 'file', T, B, seed: opts.seed };
  } else {
    const gen = taskInput(arch, opts);
    input = gen;
    summary = { source: 'task', task: gen.task, T: gen.T, B: gen.B, seed: gen.seed };
    taskN = gen.N;
  }
  const { x, T, B } = input;
  opts.beforeRun?.(T, B);
  const seed = opts.seed ?? 1;
  lap('input');

  const fr = forward(model, x, T, B, cells);
  const lr = computeLoss(arch, fr.out, input);
  lap('forward');

  const bistability: BistabilityReport = want('bistability')
    ? analyzeBistability(model, fr, { batchSample: opts.batchSample, cells })
    : { layers: [] };
  if (want('bistability'))
    bistability.input = inputAlignment(x, T, B, arch.inputSize, summary.task as TaskKind | undefined, taskN, bistability.layers);
  lap('bistability');
  const gradientFlow = want('gradientFlow')
    ? analyzeGradientFlow(model, fr, lr.dOut, { cells, probes: opts.probes, sequences: opts.jacobianSequences, seed })
    : { layers: [] };
  lap('gradientFlow');
  const retention = want('retention') ? analyzeRetention(model, { seed, ...opts.retention, cells, T }) : null;
  lap('retention');
  const fixedPoints = want('fixedPoints')
    ? analyzeFixedPoints(model, fr, { seed, task: summary.task ?? arch.task?.name, ...opts.fixedPoints, cells })
    : { layer: -1, input: [], points: [], trajectories: [], observed: [], explainedVariance: [0, 0] as [number, number] };
  lap('fixedPoints');
  const memory = want('memory') ? diagnoseMemory(model, opts, summary, fr, input, cells, seed) : null;
  lap('memory');

  let paramCount = 0;
  for (const t of model.params.values()) paramCount += tensorSize(t.shape);
  const body: ReportBody = {
    version: REPORT_VERSION,
    createdAt: new Date().toISOString(),
    model: { architecture: arch, path: opts.modelPath, name: opts.modelName, paramCount },
    input: { ...summary, loss: lr.loss },
    bistability,
    gradientFlow,
    retention,
    fixedPoints,
    memory,
    sections,
    timings,
  };
  const diagnosis = [...nonFiniteWeightsSentence(model), ...describeReport(body, opts.sentenceContext)];
  lap('diagnosis');
  timings.total = performance.now() - t0;
  return { ...body, diagnosis };
}

/**
 * The memory section, on its own larger batch of the task when the batch is generated (scores of single
 * neurons need more sequences than batch means; see memoryBatchSize), else on the diagnosed batch.
 */
function diagnoseMemory(
  model: Model,
  opts: DiagnoseOptions,
  summary: Omit<InputSummary, 'loss'>,
  fr: ReturnType<typeof forward>,
  input: DiagnoseInput,
  cells: CellResolver,
  seed: number,
) {
  const mopts = { seed, ...opts.memory, task: summary.task, source: summary.source };
  const want = memoryBatchSize(model.arch, fr.T, opts.memory?.batch);
  if (opts.input || summary.source !== 'task' || want <= fr.B) return analyzeMemory(model, fr, input, { ...mopts, ownBatch: false });
  const own = taskInput(model.arch, { ...opts, batch: want });
  return analyzeMemory(model, forward(model, own.x, own.T, own.B, cells), own, { ...mopts, ownBatch: true });
}

/** The report as JSON with floats rounded to `digits` significant digits (keeps files small). */
export function reportToJson(report: DiagnosticReport, digits = 6, space?: number): string {
  return JSON.stringify(
    report,
    (_key, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) && Number.isFinite(v) ? Number(v.toPrecision(digits)) : v),
    space,
  );
}
