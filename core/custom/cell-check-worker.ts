/** The worker side of cell-check.ts (dispatched from the training worker's entry): load, dry-run, answer. */
import { parentPort } from 'node:worker_threads';
import { dryRunCell } from './cell-def';
import { warmUpCellRuntime } from './load';
import type { CellProbeReply, CellProbeRequest } from './cell-check';
import { loadCellDef } from './resolve';
import { CustomCellError } from './source';

/** Loads and dry-runs in this thread (runs user code). */
export function runCellProbe(req: CellProbeRequest): CellProbeReply {
  try {
    const def = loadCellDef(req.file);
    const layers = req.sizes.map((s) => {
      const r = dryRunCell(def, s.inputSize, s.units);
      return { inputSize: r.inputSize, units: r.units, stateSize: r.stateSize, params: r.params };
    });
    const { name, file, sha256, backend, hIsState } = def.custom;
    return { type: 'ok', result: { name, file, sha256, backend, hIsState, gateNames: [...def.gateNames], layers } };
  } catch (e) {
    if (e instanceof CustomCellError) return { type: 'error', message: e.message, file: e.file, line: e.line, column: e.column };
    return { type: 'error', message: `${req.file}: ${e instanceof Error ? e.message : String(e)}`, file: req.file };
  }
}

export function answerCellProbe(req: CellProbeRequest): void {
  const post = (m: CellProbeReply) => parentPort?.postMessage(m);
  try {
    warmUpCellRuntime();
  } catch (e) {
    post({ type: 'error', message: (e as Error).message });
    return;
  }
  post({ type: 'ready' });
  post(runCellProbe(req));
}
