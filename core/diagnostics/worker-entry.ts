/**
 * Entry of the diagnostics worker thread (bundled to dist/diagnose-worker.js): loads a model file (ours, or a
 * foreign format through openAnyModel), runs diagnose() and posts the report back, so the extension host stays
 * responsive during a diagnosis. A foreign file that leaves questions open posts them instead.
 */
import { basename, dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { cellResolver, resolveEngine } from '../engine/index';
import { loadModelWithCustomCells } from '../custom/resolve';
import { openAnyModel } from '../formats/detect';
import { NeedsAnswers } from '../formats/errors';
import type { Model } from '../model/model';
import { sniffModelFile } from '../model/model-sniff';
import { diagnose, reportToJson, type DiagnoseOptions } from './diagnose';
import { probeInput } from './input';
import type { DiagnoseWorkerInput, DiagnoseWorkerOutput } from './worker-protocol';
import type { DiagnosticReport } from './types';

const input = workerData as DiagnoseWorkerInput;
const post = (m: DiagnoseWorkerOutput) => parentPort?.postMessage(m);

async function load(): Promise<Model> {
  // One of our models (also a damaged one, so its own loader reports the damage) may use custom cells: their
  // files load here (user code, in this worker) when allowed.
  const sniff = sniffModelFile(input.modelPath);
  if (sniff.kind === 'model' || sniff.ours)
    return loadModelWithCustomCells(input.modelPath, { allowCustomCells: input.allowCustomCells === true }).model;
  return (await openAnyModel(input.modelPath, { answers: input.answers })).model;
}

/** The extension's fixed-point settings; an x* of another length than the model's input is not this model's. */
function fixedPointOptions(model: Model): DiagnoseOptions['fixedPoints'] {
  const fp = input.fixedPoints;
  if (!fp) return undefined;
  return { starts: fp.starts, steps: fp.steps, input: fp.input && fp.input.length === model.arch.inputSize ? fp.input : undefined };
}

async function main(): Promise<void> {
  const model = await load();
  const engine = resolveEngine(input.engine ?? 'fast');
  const report = diagnose(model, {
    T: input.T,
    seed: input.seed,
    memoryLimitMb: input.memoryLimitMb,
    batch: input.batch,
    batchSample: input.batchSample,
    input: probeInput(model, input.T, input.batch ?? 32, input.seed, input.memoryLimitMb),
    jacobianSequences: input.jacobianSequences,
    probes: input.jacobianProbes,
    cells: cellResolver(engine),
    fixedPoints: fixedPointOptions(model),
    memory: input.memory,
    retention: input.retention,
    modelPath: input.modelPath,
    sentenceContext: 'extension', // this worker serves the extension only
    modelName: basename(input.modelPath).replace(/\.safetensors$/i, ''),
    // smnist models need the digits shipped next to this bundle.
    dataPath: join(dirname(__filename), 'data', 'mnist.bin'),
  });
  // The same rounded numbers as the CLI's JSON and HTML report (and a fraction of the message size).
  post({ type: 'report', report: JSON.parse(reportToJson(report)) as DiagnosticReport });
}

main().catch((e: unknown) => {
  if (e instanceof NeedsAnswers) post({ type: 'needsAnswers', message: e.message, questions: e.questions });
  else post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
});
