/** The rnnMemory.diagnose.* / diagnostics.* settings as diagnosis options (read through `get`, so tests need no VS Code). */
import type { DiagnoseWorkerInput } from '../core/diagnostics/worker-protocol';

const posInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : undefined);

/**
 * rnnMemory.diagnose.fixedPointInput (x*; an empty list means the task's default), fixedPointStarts and
 * fixedPointSteps. Values that are not valid fall back to the defaults instead of failing every diagnosis.
 */
export function fixedPointSettings(get: (key: string) => unknown): DiagnoseWorkerInput['fixedPoints'] {
  const x = get('diagnose.fixedPointInput');
  const input =
    Array.isArray(x) && x.length > 0 && x.every((v) => typeof v === 'number' && Number.isFinite(v)) ? (x as number[]) : undefined;
  return { input, starts: posInt(get('diagnose.fixedPointStarts')), steps: posInt(get('diagnose.fixedPointSteps')) };
}

/** A finite number at least `min`, rounded down (the retention sizes), else undefined (the core default). */
const atLeast = (v: unknown, min: number): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= min ? Math.floor(v) : undefined;

/**
 * Every diagnosis option the settings give, in one place (keys relative to `rnnMemory`): the fixed-point
 * search, memory attribution (threshold in (0, 1), shortest window, own batch), the diagnosed batch and its
 * per-neuron sample, retention sizes and the ‖∂h_T/∂h_t‖ estimate. Invalid values fall back to the core's defaults.
 */
export function diagnoseSettings(get: (key: string) => unknown): Omit<DiagnoseWorkerInput, 'modelPath' | 'engine' | 'answers'> {
  const th = get('diagnose.memoryThreshold');
  return {
    fixedPoints: fixedPointSettings(get),
    memory: {
      threshold: typeof th === 'number' && th > 0 && th < 1 ? th : undefined,
      minSteps: posInt(get('diagnose.memoryMinSteps')),
      batch: atLeast(get('diagnose.memoryBatch'), 4),
    },
    batch: posInt(get('diagnostics.batch')),
    batchSample: posInt(get('diagnostics.batchSample')),
    retention: { batch: atLeast(get('diagnostics.retentionBatch'), 8), probeTrain: atLeast(get('diagnostics.probeTrain'), 4) },
    jacobianSequences: posInt(get('diagnostics.jacobianSequences')),
    jacobianProbes: posInt(get('diagnostics.jacobianProbes')),
  };
}
