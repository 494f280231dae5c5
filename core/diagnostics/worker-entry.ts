/**
 * Entry of the diagnostics worker thread (bundled to dist/diagnose-worker.js): loads a model file, runs
 * diagnose() and posts the report back, so the extension host stays responsive during a diagnosis.
 */
import { basename, dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { cellResolver, resolveEngine } from '../engine/index';
import { loadModelWithCustomCells } from '../custom/resolve';
import { diagnose, reportToJson } from './diagnose';
import type { DiagnoseWorkerInput, DiagnoseWorkerOutput } from './worker-protocol';
import type { DiagnosticReport } from './types';

const input = workerData as DiagnoseWorkerInput;
const post = (m: DiagnoseWorkerOutput) => parentPort?.postMessage(m);

try {
  // A model with custom layers loads their cell files here (user code, in this worker) when allowed.
  const { model } = loadModelWithCustomCells(input.modelPath, { allowCustomCells: input.allowCustomCells === true });
  const engine = resolveEngine(input.engine ?? 'fast');
  const report = diagnose(model, {
    T: input.T,
    seed: input.seed,
    cells: cellResolver(engine),
    modelPath: input.modelPath,
    modelName: basename(input.modelPath).replace(/\.safetensors$/i, ''),
    // smnist models need the digits shipped next to this bundle.
    dataPath: join(dirname(__filename), 'data', 'mnist.bin'),
  });
  // The same rounded numbers as the CLI's JSON and HTML report (and a fraction of the message size).
  post({ type: 'report', report: JSON.parse(reportToJson(report)) as DiagnosticReport });
} catch (e) {
  post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}
