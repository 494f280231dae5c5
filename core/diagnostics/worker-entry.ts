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
import { openTorchModel, type TorchModel } from '../torch/bridge';
import { isTorchSpecPath, readTorchSpec, torchSpecLabel, torchSpecShape } from '../torch/model-spec';
import { diagnose, reportToJson, type DiagnoseOptions } from './diagnose';
import { probeInput } from './input';
import type { DiagnoseWorkerInput, DiagnoseWorkerOutput } from './worker-protocol';
import type { DiagnosticReport } from './types';

const input = workerData as DiagnoseWorkerInput;
const post = (m: DiagnoseWorkerOutput) => parentPort?.postMessage(m);

/**
 * A PyTorch model description runs the user's Python file, so only where custom code may run (the extension:
 * trusted workspaces). The helper process lives until the diagnosis ends.
 */
function openTorch(): { torch: TorchModel; label: string } {
  const spec = readTorchSpec(input.modelPath);
  if (input.allowCustomCells !== true)
    throw new Error(`${torchSpecLabel(spec)} runs your Python code, so PyTorch models are diagnosed only in a trusted workspace`);
  const shape = torchSpecShape(spec);
  const torch = openTorchModel({
    ...spec,
    device: input.torch?.device ?? 'cpu',
    python: input.torch?.python || 'python3',
    timeoutMs: input.torch?.timeoutMs,
    inputSize: shape.inputSize,
    readoutActivation: shape.activation,
    task: shape.task,
  });
  return { torch, label: `${basename(spec.file)}:${spec.name}` };
}

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
  const opened = isTorchSpecPath(input.modelPath) ? openTorch() : undefined;
  try {
    await diagnoseAndPost(opened ? opened.torch.model : await load(), opened);
  } finally {
    opened?.torch.close();
  }
}

async function diagnoseAndPost(model: Model, opened?: { torch: TorchModel; label: string }): Promise<void> {
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
    modelName: opened ? opened.label : basename(input.modelPath).replace(/\.safetensors$/i, ''),
    // smnist models need the digits shipped next to this bundle.
    dataPath: join(dirname(__filename), 'data', 'mnist.bin'),
  });
  if (opened) report.model.paramCount = opened.torch.paramCount; // the whole nn.Module, not only its head
  // The same rounded numbers as the CLI's JSON and HTML report (and a fraction of the message size).
  post({ type: 'report', report: JSON.parse(reportToJson(report)) as DiagnosticReport });
}

main().catch((e: unknown) => {
  if (e instanceof NeedsAnswers) post({ type: 'needsAnswers', message: e.message, questions: e.questions });
  else post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
});
