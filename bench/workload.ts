/**
 * One benchmark measurement in this process: the paper's copy-first-input setting (input size 1,
 * a stack of `layers` cells of `units`, linear readout on h_T, MSE) timed as a full training step
 * (forward + BPTT + Adam) and as forward only. Runs in a child process per configuration so that
 * peak memory (maxRSS) belongs to that configuration alone.
 */
import type { CellKind } from '../core/cells/types';
import { cellResolver, releaseForward, resolveEngine, type EngineName } from '../core/engine/index';
import { createModel, forward, lossAndGrads } from '../core/model/network';
import { Adam } from '../core/train/adam';
import { Rng } from '../core/util/rng';

export interface Workload {
  cell: CellKind;
  engine: EngineName;
  T: number;
  units: number;
  layers: number;
  batch: number;
  warmup: number;
  reps: number;
  /** Native worker threads (fast engine); 0 = default. */
  threads?: number;
  /** Skip releaseForward after each pass (what a trainer that does not call it gets). */
  noRelease?: boolean;
  /**
   * Backward in the float32 denormal range: the readout weights scaled to 1e-39 put dL/dh_T near 1e-39, and BPTT
   * carries values that small through every step. Weights are not updated (Adam would lift the readout out of
   * that range at once); the peer is the same run with `denormal: false` and `noUpdate`.
   */
  denormal?: boolean;
  noUpdate?: boolean;
}

export interface Measurement {
  engine: EngineName;
  stepMs: number[];
  forwardMs: number[];
  /** Median training step and forward-only times. */
  stepMedianMs: number;
  forwardMedianMs: number;
  /** CPU time (all threads) per training step, median. */
  stepCpuMs: number;
  /** Minor page faults per training step, median (fresh memory the step touched). */
  stepFaults?: number;
  /** Largest resident set seen during the run, and the process's lifetime maximum (MB). */
  peakRssMb: number;
  maxRssMb: number;
  isa?: string;
  nativeThreads?: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function runWorkload(w: Workload, native?: { isa?: string; nativeThreads?: number }): Measurement {
  const rng = new Rng(42);
  const model = createModel(
    {
      inputSize: 1,
      layers: Array.from({ length: w.layers }, () => ({ cell: w.cell, units: w.units })),
      readout: { units: 1, activation: 'linear', perStep: false },
    },
    rng,
  );
  if (w.denormal) for (const v of ['readout.kernel', 'readout.bias']) model.params.get(v)!.data.forEach((a, i, d) => (d[i] = a * 1e-39));
  const { T, batch: B } = w;
  const x = new Float64Array(T * B);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const y = x.slice(0, B); // copy-first-input: the target is x_1
  const cells = cellResolver(w.engine);
  const adam = new Adam({ lr: 1e-3 });
  const stepMs: number[] = [];
  const forwardMs: number[] = [];
  const cpu: number[] = [];
  const faults: number[] = [];
  let peak = process.memoryUsage().rss;
  for (let i = 0; i < w.warmup + w.reps; i++) {
    const t0 = performance.now();
    const f0 = process.resourceUsage().minorPageFault;
    const c0 = process.cpuUsage();
    const res = lossAndGrads(model, x, T, B, { y }, cells);
    peak = Math.max(peak, process.memoryUsage().rss);
    if (!w.denormal && !w.noUpdate) adam.update(model.params, res.grads);
    if (!w.noRelease) releaseForward(res.fr);
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    const f1 = process.resourceUsage().minorPageFault;
    const fr = forward(model, x, T, B, cells);
    if (!w.noRelease) releaseForward(fr);
    const t2 = performance.now();
    peak = Math.max(peak, process.memoryUsage().rss);
    if (i >= w.warmup) {
      stepMs.push(t1 - t0);
      forwardMs.push(t2 - t1);
      cpu.push((c1.user + c1.system) / 1000);
      faults.push(f1 - f0);
    }
  }
  return {
    engine: resolveEngine(w.engine),
    stepMs,
    forwardMs,
    stepMedianMs: median(stepMs),
    forwardMedianMs: median(forwardMs),
    stepCpuMs: median(cpu),
    stepFaults: median(faults),
    peakRssMb: peak / 2 ** 20,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    ...(native ?? {}),
  };
}
