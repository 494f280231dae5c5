/**
 * The memory budget of one diagnosis, checked before a batch is generated or a step is computed. The forward
 * pass keeps every step's states and gate caches for the gradient-flow and retention analyses: measured on the
 * fast engine (T = 500…4000, batch 64, 2 × 100 units), 31 (BRC) to 56 (LSTM) bytes per state value, plus fixed
 * overhead; 96 bytes covers every cell. Typed arrays are not counted by V8's heap limits (the extension's
 * worker resourceLimits), so this estimate is the real guard and the worker limit the backstop.
 */
import type { Architecture } from '../model/architecture';

/** Default for the CLI's --memory-limit-mb and the extension's rnnMemory.diagnostics.memoryLimitMb. */
export const DEFAULT_MEMORY_LIMIT_MB = 4096;
export const MIN_MEMORY_LIMIT_MB = 64;
export const MAX_MEMORY_LIMIT_MB = 1 << 20;
const BYTES_PER_STATE_VALUE = 96;

/** Thrown when a diagnosis would exceed the memory budget; its message names the knobs that change it. */
export class LimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LimitError';
  }
}

export const TOO_LARGE = 'model too large for the current limits';

/** Sequences × steps of the retention probe's own batch (2T steps × 16 sequences, core/diagnostics/retention.ts). */
const RETENTION_SEQUENCES = 2 * 16;

/** Estimated bytes of a diagnosis of `arch` on T steps × B sequences (the retention probe's batch included). */
export function diagnoseBytes(arch: Architecture, T: number, B: number): number {
  const perStep = arch.inputSize + arch.layers.reduce((s, l) => s + l.units, 0) + (arch.readout.perStep ? arch.readout.units : 0);
  return T * (B + RETENTION_SEQUENCES) * perStep * BYTES_PER_STATE_VALUE;
}

/**
 * Throws LimitError when diagnosing T × B would need more than `limitMb`: the one size guard of a diagnosis
 * (the CLI's --max-values is an alias that sets the budget, see maxValuesBudgetMb).
 */
export function checkDiagnoseWork(arch: Architecture, T: number, B: number, limitMb = DEFAULT_MEMORY_LIMIT_MB): void {
  const need = diagnoseBytes(arch, T, B);
  if (need <= limitMb * 1024 * 1024) return;
  const units = arch.layers.reduce((s, l) => s + l.units, 0);
  const mb = (x: number) => (x >= 10 ? String(Math.ceil(x)) : x.toPrecision(2));
  throw new LimitError(
    `${TOO_LARGE}: diagnosing T = ${T} steps × batch ${B} × ${units} units needs about ${mb(need / 2 ** 20)} MB (limit ${mb(limitMb)} MB; ` +
      'flag --memory-limit-mb / setting rnnMemory.diagnostics.memoryLimitMb, or its alias --max-values; or a smaller --T / --batch)',
  );
}

/** Bytes per value of diagnose's --max-values alias: a kept value as float64. */
export const BYTES_PER_MAX_VALUE = 8;

/**
 * The memory budget (MB) of diagnose's --max-values N, kept as an alias of --memory-limit-mb: N values of
 * BYTES_PER_MAX_VALUE bytes. With both flags the smaller budget applies.
 */
export function maxValuesBudgetMb(maxValues: number | undefined, memoryLimitMb: number | undefined): number | undefined {
  if (maxValues === undefined) return memoryLimitMb;
  return Math.min(memoryLimitMb ?? DEFAULT_MEMORY_LIMIT_MB, (maxValues * BYTES_PER_MAX_VALUE) / 2 ** 20);
}

/** The setting's value, clamped to the allowed range (default when unset or not a number). */
export function clampMemoryLimitMb(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return DEFAULT_MEMORY_LIMIT_MB;
  return Math.round(Math.min(MAX_MEMORY_LIMIT_MB, Math.max(MIN_MEMORY_LIMIT_MB, v)));
}

/**
 * V8 limits for a diagnostics or parsing worker with this budget: the old generation (where jsfive's arrays,
 * parsed JSON and reports live) gets the budget; a young generation and stack of fixed modest size.
 */
export function workerResourceLimits(memoryLimitMb: number): {
  maxOldGenerationSizeMb: number;
  maxYoungGenerationSizeMb: number;
  stackSizeMb: number;
} {
  return { maxOldGenerationSizeMb: memoryLimitMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, memoryLimitMb >> 4)), stackSizeMb: 8 };
}

/** The one-line message for a worker that died of its heap limit, or undefined for any other error. */
export function workerOutOfMemoryMessage(e: unknown, setting: string): string | undefined {
  return (e as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `${TOO_LARGE} (setting ${setting})` : undefined;
}
