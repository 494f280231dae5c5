/** The rnnMemory.diagnose.* settings as diagnosis options (read through `get`, so tests need no VS Code). */
import type { DiagnoseWorkerInput } from '../core/diagnostics/worker-protocol';

const posInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : undefined);

/**
 * rnnMemory.diagnose.fixedPointInput (x*; an empty list means the task's default), fixedPointStarts and
 * fixedPointSteps. Values that are not valid fall back to the defaults instead of failing every diagnosis.
 */
export function fixedPointSettings(get: (key: string) => unknown): DiagnoseWorkerInput['fixedPoints'] {
  const x = get('diagnose.fixedPointInput');
  const input = Array.isArray(x) && x.length > 0 && x.every((v) => typeof v === 'number' && Number.isFinite(v)) ? (x as number[]) : undefined;
  return { input, starts: posInt(get('diagnose.fixedPointStarts')), steps: posInt(get('diagnose.fixedPointSteps')) };
}
