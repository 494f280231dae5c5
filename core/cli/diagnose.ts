/**
 * `rnn-memory diagnose --model FILE [--task copy --T 300 --batch 64 --seed 1 | --input FILE.json]
 *  [--out report.json] [--html report.html]`: the diagnostic report of a model, as JSON and/or HTML, with
 * the diagnosis sentences on stderr.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { diagnose, reportToJson } from '../diagnostics/diagnose';
import { parseDiagnoseInput, type DiagnoseInput } from '../diagnostics/input';
import { SECTION_NAMES, type SectionName } from '../diagnostics/types';
import { cellResolver, resolveEngine } from '../engine/index';
import { openModelForCli } from '../formats/cli';
import type { Model } from '../model/model';
import { renderHtmlReport } from '../report/html';
import type { TaskKind } from '../tasks/index';
import type { EngineName } from '../train/types';
import { UsageError, type FlagReader } from './args';
import { loadCustomCellsForCli } from './custom-cell';

const TASKS: readonly TaskKind[] = ['copy', 'denoise', 'smnist'];

export const DIAGNOSE_HELP = `diagnose options:
  --model FILE       model to diagnose (required): ours, a PyTorch state dict (.safetensors, .pt/.pth),
                     Keras (.keras, .h5) or TensorFlow.js (model.json)
  --answer K=V[,K=V] answers to questions a foreign file leaves open (e.g. readout.activation=linear)
  --cell FILE.ts     cell file of a model trained with a custom cell (default: the file the model
                     records, relative to the model; runs that file's code)
  --task copy|denoise|smnist  generate the batch from this task (default: the model's own task)
  --T N, --N N       task sequence length / tail (default: the model's training values)
  --batch N          sequences in the batch (64)
  --seed N           seed of the batch and of the random probes (1)
  --input FILE.json  explicit batch {"x": [[[...]]], "y": [...]} (batch × time × features; y = targets,
                     class labels for softmax models; default for copy models: each sequence's first value)
  --out FILE.json    write the report JSON here (default: stdout, unless --html is given)
  --html FILE.html   write a self-contained HTML report
  --sections LIST    bistability,gradientFlow,retention,fixedPoints (default: all)
  --layer N          layer for the fixed-point analysis (default: the last)
  --batch-sample N   sequences behind batch means of per-neuron maps (1)
  --retention-batch N  sequences (length 2T) behind the retention MSE per delay, its chance level and the
                     probe's held-out R², each with a 95 % interval (256; more = narrower intervals)
  --probe-train N    further sequences (length T) the decoding probe is fitted on (1024; about ten per
                     unit of the widest layer)
  --engine fast|reference  compute path for full-batch passes (fast)
  --quiet            do not print the diagnosis sentences`;

function parseSections(v: string | undefined): SectionName[] | undefined {
  if (v === undefined) return undefined;
  const names = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(SECTION_NAMES as readonly string[]).includes(n)) throw new UsageError(`--sections: unknown section "${n}" (expected ${SECTION_NAMES.join(', ')})`);
  }
  if (names.length === 0) throw new UsageError('--sections needs at least one section');
  return names as SectionName[];
}

function readInput(path: string, model: Model): DiagnoseInput {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  return parseDiagnoseInput(json, model.arch, path);
}

export async function cmdDiagnose(f: FlagReader): Promise<number> {
  const modelPath = f.requireString('model');
  const inputPath = f.string('input');
  const task = f.string('task');
  const T = f.int('T');
  const N = f.int('N');
  const batch = f.int('batch');
  const seed = f.int('seed');
  const outPath = f.string('out');
  const htmlPath = f.string('html');
  const sections = parseSections(f.string('sections'));
  const layer = f.int('layer');
  const batchSample = f.int('batch-sample');
  const retentionBatch = f.int('retention-batch');
  const probeTrain = f.int('probe-train');
  const engineName = f.string('engine') ?? 'fast';
  const quiet = f.bool('quiet');
  const answer = f.string('answer');
  const cell = f.string('cell');
  f.finish();
  if (task !== undefined && !(TASKS as readonly string[]).includes(task)) throw new UsageError(`--task must be copy, denoise or smnist (got "${task}")`);
  if (inputPath && (task !== undefined || T !== undefined || N !== undefined || batch !== undefined)) {
    throw new UsageError('--input cannot be combined with --task, --T, --N or --batch (the file defines the batch)');
  }
  if (engineName !== 'fast' && engineName !== 'reference') throw new UsageError(`--engine must be fast or reference (got "${engineName}")`);
  for (const [name, v] of [['T', T], ['batch', batch], ['batch-sample', batchSample], ['retention-batch', retentionBatch], ['probe-train', probeTrain]] as const) {
    if (v !== undefined && v < 1) throw new UsageError(`--${name} must be a positive integer (got ${v})`);
  }
  if (N !== undefined && N < 0) throw new UsageError(`--N must be >= 0 (got ${N})`);
  if (retentionBatch !== undefined && retentionBatch < 8) throw new UsageError(`--retention-batch must be at least 8 (got ${retentionBatch})`);
  if (probeTrain !== undefined && probeTrain < 4) throw new UsageError(`--probe-train must be at least 4 (got ${probeTrain})`);

  const { model } = await openModelForCli(modelPath, answer);
  loadCustomCellsForCli(model, modelPath, cell);
  const input = inputPath ? readInput(inputPath, model) : undefined;
  const engine = resolveEngine(engineName as EngineName);
  const report = diagnose(model, {
    input,
    task: task as TaskKind | undefined,
    T,
    N,
    batch,
    seed,
    sections,
    batchSample,
    fixedPoints: layer !== undefined ? { layer } : undefined,
    retention: { batch: retentionBatch, probeTrain },
    cells: cellResolver(engine),
    modelPath,
    modelName: basename(modelPath).replace(/\.(safetensors|pt|pth|keras|h5|json)$/i, ''),
  });
  const json = reportToJson(report);
  if (outPath) writeFileSync(outPath, json);
  // The HTML embeds the same rounded numbers as the JSON file (a fraction of the size).
  if (htmlPath) writeFileSync(htmlPath, renderHtmlReport(JSON.parse(json) as typeof report));
  if (!outPath && !htmlPath) process.stdout.write(json + '\n');
  if (!quiet) {
    const mark = { good: '+', info: '-', warning: '!' } as const;
    for (const s of report.diagnosis) process.stderr.write(`${mark[s.severity]} ${s.text}\n`);
    const wrote = [outPath, htmlPath].filter(Boolean);
    process.stderr.write(`diagnosed in ${(report.timings.total / 1000).toFixed(1)} s (engine ${engine})${wrote.length ? `; wrote ${wrote.join(', ')}` : ''}\n`);
  }
  return 0;
}
