/**
 * Diagnostics bench: diagnose() of a 4-layer × 100-unit model on 1000 steps × batch 64 (target < 1 s with the
 * fast engine). A short warm-up run compiles the hot paths first; the timed runs report the best total, next
 * to the cost of one plain forward + backward of the same batch (the floor any gradient diagnosis pays).
 */
import { cpus, loadavg } from 'node:os';
import type { CellKind } from '../core/cells/types';
import { diagnose } from '../core/diagnostics/diagnose';
import { cellResolver, resolveEngine, type EngineName } from '../core/engine/index';
import { layerGradients } from '../core/diagnostics/gradient-flow';
import { taskInput } from '../core/diagnostics/input';
import { computeLoss, createModel, forward } from '../core/model/network';
import { Rng } from '../core/util/rng';

export interface DiagnoseBenchOptions {
  cell?: CellKind;
  engine?: EngineName;
  layers?: number;
  units?: number;
  T?: number;
  batch?: number;
  reps?: number;
}

export interface DiagnoseBenchResult {
  /** Best wall-clock ms of diagnose() over the timed runs. */
  ms: number;
  /** Per-section ms of that run (report.timings). */
  timings: Record<string, number>;
  /** CPU ms of that run (all threads of this process). */
  cpuMs: number;
  /** Best ms of one forward + backward (with dL/dh read back) of the same batch on the same engine. */
  forwardBackwardMs: number;
  engine: EngineName;
  cell: CellKind;
  layers: number;
  units: number;
  T: number;
  batch: number;
  targetMs: number;
  loadAvg: number;
  cpus: number;
}

export async function benchDiagnose(opts: DiagnoseBenchOptions = {}): Promise<DiagnoseBenchResult> {
  const cell = opts.cell ?? 'nbrc';
  const layers = opts.layers ?? 4;
  const units = opts.units ?? 100;
  const T = opts.T ?? 1000;
  const batch = opts.batch ?? 64;
  const engine = resolveEngine(opts.engine ?? 'fast');
  const cells = cellResolver(engine);
  const model = createModel(
    {
      inputSize: 1,
      layers: Array.from({ length: layers }, () => ({ cell, units })),
      readout: { units: 1, activation: 'linear', perStep: false },
      task: { name: 'copy', T },
    },
    new Rng(1),
  );
  diagnose(model, { cells, T: Math.min(T, 50), batch: Math.min(batch, 8) });
  const input = taskInput(model.arch, { T, batch, seed: 1 });
  let forwardBackwardMs = Infinity;
  for (let r = 0; r < 2; r++) {
    const w0 = performance.now();
    const fr = forward(model, input.x, T, batch, cells);
    layerGradients(model, fr, computeLoss(model.arch, fr.out, input).dOut, cells);
    forwardBackwardMs = Math.min(forwardBackwardMs, performance.now() - w0);
  }
  let best: DiagnoseBenchResult | undefined;
  for (let r = 0; r < Math.max(1, opts.reps ?? 2); r++) {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    const report = diagnose(model, { cells, T, batch, seed: 1 + r });
    const ms = performance.now() - w0;
    const c = process.cpuUsage(c0);
    if (!best || ms < best.ms) {
      best = {
        ms,
        timings: report.timings,
        cpuMs: (c.user + c.system) / 1000,
        forwardBackwardMs,
        engine,
        cell,
        layers,
        units,
        T,
        batch,
        targetMs: 1000,
        loadAvg: loadavg()[0],
        cpus: cpus().length,
      };
    }
  }
  return best!;
}

// `node --import tsx bench/diagnose.ts [fast|reference]` (not when bundled into dist/bench.js).
if (/bench[\\/]diagnose\.ts$/.test(process.argv[1] ?? '')) {
  void benchDiagnose({ engine: (process.argv[2] as EngineName | undefined) ?? 'fast' }).then((r) => {
    const t = Object.entries(r.timings)
      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
      .join(', ');
    process.stdout.write(
      `diagnose ${r.layers}×${r.units} ${r.cell}, T=${r.T}, B=${r.batch}, engine ${r.engine}: ${r.ms.toFixed(0)} ms (cpu ${r.cpuMs.toFixed(0)} ms; ${t}); ` +
        `one forward+backward ${r.forwardBackwardMs.toFixed(0)} ms; load ${r.loadAvg.toFixed(1)} on ${r.cpus} cpus\n`,
    );
  });
}
