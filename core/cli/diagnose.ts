/**
 * `rnn-memory diagnose --model FILE [--task copy --T 300 --batch 64 --seed 1 | --input FILE.json]
 *  [--out report.json] [--html report.html]`: the diagnostic report of a model, as JSON and/or HTML, with
 * the diagnosis sentences on stderr.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { diagnose, reportToJson } from '../diagnostics/diagnose';
import { MAX_MEMORY_LIMIT_MB, MIN_MEMORY_LIMIT_MB, maxValuesBudgetMb } from '../diagnostics/limits';
import { MAX_TASK_T } from '../model/architecture';
import { parseDiagnoseInput, type DiagnoseInput } from '../diagnostics/input';
import { SECTION_NAMES, type SectionName } from '../diagnostics/types';
import { cellResolver, resolveEngine } from '../engine/index';
import { openModelForCli } from '../formats/cli';
import { engineWarnings } from '../model/finite-params';
import type { Model } from '../model/model';
import { renderHtmlReport } from '../report/html';
import type { TaskKind } from '../tasks/index';
import { UsageError, type FlagReader } from './args';
import { loadCustomCellsForCli } from './custom-cell';
import { openTorchForCli, readTorchFlags, TORCH_HELP } from './torch-model';
import { runTarget, RUNS_HELP } from './runs';
import { engineAnnouncement, DEFAULT_MAX_INPUT_MB, engineFlag, positiveFlag, readInputJson } from './input-limits';

const TASKS: readonly TaskKind[] = ['copy', 'denoise', 'smnist'];

export const DIAGNOSE_HELP = `diagnose options:
  --run DIR [--step N]  a run's weights (see below) instead of --model or --torch
  --model FILE       model to diagnose (required): ours, a PyTorch state dict (.safetensors, .pt/.pth),
                     Keras (.keras, .h5) or TensorFlow.js (model.json)
  --answer K=V[,K=V] answers to questions a foreign file leaves open (e.g. readout.activation=linear)
  --remember-answers store the answers next to the model, in FILE.rnnmemory.json (default: write nothing
                     there; an existing regular FILE.rnnmemory.json is read either way)
  --cell FILE.ts     cell file of a model trained with a custom cell (default: the file the model
                     records, relative to the model; runs that file's code)
  --task copy|denoise|smnist  generate the batch from this task (default: the model's own task)
  --T N, --N N       task sequence length / tail (default: the model's training values)
  --batch N          sequences in the batch (64)
  --seed N           seed of the batch and of the random probes (1)
  --input FILE.json  explicit batch {"x": [[[...]]], "y": [...]} (batch × time × features; y = targets,
                     class labels for softmax models; default for copy models: each sequence's first value)
  --max-input-mb N   refuse a larger --input file, before reading it (64)
  --max-values N     alias of --memory-limit-mb N·8/2²⁰ (N values as float64; kept for scripts): the
                     smaller of the two budgets applies
  --out FILE.json    write the report JSON here (default: stdout, unless --html is given)
  --html FILE.html   write a self-contained HTML report
  --sections LIST    bistability,gradientFlow,retention,fixedPoints,memory (default: all)
  --layer N          layer for the fixed-point analysis (default: the last)
  --fixed-point-input V1,V2,...  constant input x* of the fixed-point search, one value per model input
                     (default: the task's hold-period input: copy 0, denoise 0,-1, smnist 0)
  --fixed-point-starts N  runs of the search, each from an observed state of the batch (128)
  --fixed-point-steps N   most steps per run; runs stop early once settled (200)
  --batch-sample N   sequences behind batch means of per-neuron maps (up to 16 per layer within ~0.1 s)
  --memory-threshold R  adjusted R² (η² for classes) a neuron's interval must clear to count as a
                     memory carrier (0.1)
  --memory-min-steps N  shortest window a carrier must hold the target (max(2, 5 % of T))
  --memory-batch N   sequences of the memory attribution's own task batch (256, fewer for very long
                     or wide models; with --input: the file's sequences)
  --jacobian-sequences M  sequences of the batch behind ‖∂h_T/∂h_t‖ (median with a 95 % interval; 16)
  --jacobian-probes N     random probe directions per sequence for ‖∂h_T/∂h_t‖ (8; a lower bound
                     below the layer's units, exact at or above)
  --retention-batch N  sequences (length 2T) behind the retention MSE per delay, its chance level and the
                     probe's held-out R², each with a 95 % interval (256; more = narrower intervals)
  --probe-train N    further sequences (length T) the decoding probe is fitted on (1024; about ten per
                     unit of the widest layer)
  --engine fast|native|wasm|reference  compute path for full-batch passes (fast: native, else wasm, else reference)
  --memory-limit-mb N  refuse (before computing) a diagnosis estimated to need more memory (4096)
  --quiet            do not print the diagnosis sentences

${TORCH_HELP}

${RUNS_HELP}`;

function parseSections(v: string | undefined): SectionName[] | undefined {
  if (v === undefined) return undefined;
  const names = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!(SECTION_NAMES as readonly string[]).includes(n))
      throw new UsageError(`--sections: unknown section "${n}" (expected ${SECTION_NAMES.join(', ')})`);
  }
  if (names.length === 0) throw new UsageError('--sections needs at least one section');
  return names as SectionName[];
}

/** "0,-1" → [0, -1] (a one-line usage error for anything that is not a list of finite numbers). */
export function parseNumberList(flag: string, v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(',').map((s) => s.trim());
  const xs = parts.map(Number);
  if (parts.some((s) => s === '') || xs.some((x) => !Number.isFinite(x)))
    throw new UsageError(`--${flag} must be comma-separated numbers (got "${v}")`);
  return xs;
}

function readInput(path: string, model: Model, maxMb: number): DiagnoseInput {
  return parseDiagnoseInput(readInputJson(path, maxMb), model.arch, path);
}

export async function cmdDiagnose(f: FlagReader): Promise<number> {
  const runDir = f.string('run');
  const runStep = f.int('step');
  if (runStep !== undefined && runDir === undefined) throw new UsageError('--step applies to --run DIR only');
  if (runDir !== undefined && (f.string('model') !== undefined || f.string('torch') !== undefined))
    throw new UsageError('--run names the model: give no --model or --torch');
  const target = runDir !== undefined ? runTarget(runDir, runStep) : undefined;
  const torch = readTorchFlags(f, target?.kind === 'torch' ? target : undefined);
  if (torch && f.string('model') !== undefined) throw new UsageError('give either --model or --torch, not both');
  const modelPath = target?.kind === 'model' ? target.path : torch ? torch.file : f.requireString('model');
  const inputPath = f.string('input');
  // A monitored run's task (Monitor(task=...)) is the default batch, as a built-in model's own task is.
  const runTask = target?.kind === 'torch' && !inputPath && f.string('task') === undefined ? target.task : undefined;
  const task = f.string('task') ?? runTask?.name;
  const T = f.int('T') ?? runTask?.T;
  const N = f.int('N') ?? runTask?.N;
  if (target) {
    process.stderr.write(`run ${runDir}: step ${target.step} (${target.kind === 'torch' ? target.weights : target.path})\n`);
    if (target.kind === 'torch' && target.changed)
      process.stderr.write(`warning: ${target.file} changed since the run started; the snapshot may not fit the model it builds now\n`);
  }
  const batch = f.int('batch');
  const seed = f.int('seed');
  const outPath = f.string('out');
  const htmlPath = f.string('html');
  const sections = parseSections(f.string('sections'));
  const layer = f.int('layer');
  const fpInput = parseNumberList('fixed-point-input', f.string('fixed-point-input'));
  const fpStarts = f.int('fixed-point-starts');
  const fpSteps = f.int('fixed-point-steps');
  const batchSample = f.int('batch-sample');
  const retentionBatch = f.int('retention-batch');
  const probeTrain = f.int('probe-train');
  const jacobianSequences = f.int('jacobian-sequences');
  const jacobianProbes = f.int('jacobian-probes');
  const memoryThreshold = f.number('memory-threshold');
  const memoryMinSteps = f.int('memory-min-steps');
  const memoryBatch = f.int('memory-batch');
  const engineName = engineFlag(f) ?? 'fast';
  const quiet = f.bool('quiet');
  const answer = f.string('answer');
  const remember = f.bool('remember-answers');
  const cell = f.string('cell');
  const maxInputMb = positiveFlag(f, 'max-input-mb', DEFAULT_MAX_INPUT_MB);
  const maxValues = f.number('max-values');
  const memoryLimitMb = f.int('memory-limit-mb');
  f.finish();
  if (task !== undefined && !(TASKS as readonly string[]).includes(task))
    throw new UsageError(`--task must be copy, denoise or smnist (got "${task}")`);
  if (inputPath && (task !== undefined || T !== undefined || N !== undefined || batch !== undefined)) {
    throw new UsageError('--input cannot be combined with --task, --T, --N or --batch (the file defines the batch)');
  }
  for (const [name, v] of [
    ['T', T],
    ['batch', batch],
    ['batch-sample', batchSample],
    ['fixed-point-starts', fpStarts],
    ['fixed-point-steps', fpSteps],
  ] as const) {
    if (v !== undefined && v < 1) throw new UsageError(`--${name} must be a positive integer (got ${v})`);
  }
  for (const [name, v] of [
    ['jacobian-sequences', jacobianSequences],
    ['jacobian-probes', jacobianProbes],
  ] as const) {
    if (v !== undefined && v < 1) throw new UsageError(`--${name} must be a positive integer (got ${v})`);
  }
  if (N !== undefined && N < 0) throw new UsageError(`--N must be >= 0 (got ${N})`);
  if (memoryThreshold !== undefined && !(memoryThreshold > 0 && memoryThreshold < 1))
    throw new UsageError(`--memory-threshold must be between 0 and 1 (got ${memoryThreshold})`);
  if (memoryBatch !== undefined && memoryBatch < 4) throw new UsageError(`--memory-batch must be at least 4 (got ${memoryBatch})`);
  if (memoryBatch !== undefined && inputPath)
    throw new UsageError('--memory-batch cannot be combined with --input (the file defines the sequences)');
  if (memoryMinSteps !== undefined && memoryMinSteps < 1)
    throw new UsageError(`--memory-min-steps must be a positive integer (got ${memoryMinSteps})`);
  if (T !== undefined && T > MAX_TASK_T) throw new UsageError(`--T must be at most ${MAX_TASK_T} (got ${T})`);
  if (memoryLimitMb !== undefined && !(memoryLimitMb >= MIN_MEMORY_LIMIT_MB && memoryLimitMb <= MAX_MEMORY_LIMIT_MB)) {
    throw new UsageError(`--memory-limit-mb must be between ${MIN_MEMORY_LIMIT_MB} and ${MAX_MEMORY_LIMIT_MB} (got ${memoryLimitMb})`);
  }
  if (maxValues !== undefined && !(maxValues > 0)) throw new UsageError(`--max-values must be a positive number (got ${maxValues})`);
  if (retentionBatch !== undefined && retentionBatch < 8)
    throw new UsageError(`--retention-batch must be at least 8 (got ${retentionBatch})`);
  if (probeTrain !== undefined && probeTrain < 4) throw new UsageError(`--probe-train must be at least 4 (got ${probeTrain})`);

  // A PyTorch model runs in the user's Python until main() stops the helper (closeAllHelpers).
  const inputJson = torch && inputPath ? readInputJson(inputPath, maxInputMb) : undefined;
  const torchModel =
    torch && openTorchForCli(torch, { task: task as TaskKind | undefined, T, N, input: inputJson, inputPath }, process.stderr);
  const { model } = torchModel || (await openModelForCli(modelPath, answer, process.stderr, remember));
  if (!torchModel) loadCustomCellsForCli(model, modelPath, cell);
  const input =
    inputJson !== undefined
      ? parseDiagnoseInput(inputJson, model.arch, inputPath)
      : inputPath
        ? readInput(inputPath, model, maxInputMb)
        : undefined;
  if (fpInput && fpInput.length !== model.arch.inputSize) {
    throw new UsageError(
      `--fixed-point-input: the model has ${model.arch.inputSize} input${model.arch.inputSize === 1 ? '' : 's'}, got ${fpInput.length} value${fpInput.length === 1 ? '' : 's'}`,
    );
  }
  // Checked here (as the analysis would) so that a bad --layer is the only line, before the engine's.
  const L = model.arch.layers.length;
  if (layer !== undefined && (layer < 0 || layer >= L))
    throw new Error(`fixed points: layer ${layer} does not exist (the model has ${L} layer${L === 1 ? '' : 's'})`);
  const announced = torchModel ? null : engineAnnouncement(engineName, model.arch);
  const engine = announced?.engine ?? resolveEngine(engineName);
  const report = diagnose(model, {
    input,
    task: task as TaskKind | undefined,
    T,
    N,
    batch,
    seed,
    sections,
    batchSample,
    fixedPoints: { layer, input: fpInput, starts: fpStarts, steps: fpSteps },
    memory: { threshold: memoryThreshold, minSteps: memoryMinSteps, batch: memoryBatch },
    // One size guard: --max-values is an alias of --memory-limit-mb (the smaller budget applies).
    memoryLimitMb: maxValuesBudgetMb(maxValues, memoryLimitMb),
    jacobianSequences,
    probes: jacobianProbes,
    retention: { batch: retentionBatch, probeTrain },
    cells: cellResolver(engine),
    // The engine line and float32 warnings once the batch passed the memory budget (a refusal stays one line).
    beforeRun: () => {
      if (announced) process.stderr.write(announced.line);
      for (const w of engineWarnings(model.params, engine)) process.stderr.write(`warning: ${w}\n`);
    },
    modelPath,
    modelName: torch ? torch.target : basename(modelPath).replace(/\.(safetensors|pt|pth|keras|h5|json)$/i, ''),
  });
  if (torchModel) report.model.paramCount = torchModel.paramCount; // the whole nn.Module, not only its head
  const json = reportToJson(report);
  if (outPath) writeFileSync(outPath, json);
  // The HTML embeds the same rounded numbers as the JSON file (a fraction of the size).
  if (htmlPath) writeFileSync(htmlPath, renderHtmlReport(JSON.parse(json) as typeof report));
  if (!outPath && !htmlPath) process.stdout.write(json + '\n');
  if (!quiet) {
    const mark = { good: '+', info: '-', warning: '!' } as const;
    for (const s of report.diagnosis) process.stderr.write(`${mark[s.severity]} ${s.text}\n`);
    const wrote = [outPath, htmlPath].filter(Boolean);
    process.stderr.write(
      `diagnosed in ${(report.timings.total / 1000).toFixed(1)} s (${torchModel ? `PyTorch ${torchModel.torchVersion}` : `engine ${engine}`})${wrote.length ? `; wrote ${wrote.join(', ')}` : ''}\n`,
    );
  }
  return 0;
}
