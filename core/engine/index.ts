/**
 * Engine selection. `fast` is the best available engine: the native addon, else the WebAssembly module, else
 * the float64 reference cells. `native` and `wasm` ask for that engine and fall back the same way (to wasm,
 * then reference) when it is unavailable; the caller reports resolveEngine()'s answer, so what ran is never
 * hidden.
 */
import { referenceCell } from '../cells/index';
import type { CellDef, CellKind } from '../cells/types';
import type { EngineName, ResolvedEngine } from './types';
import { fastCell, fastEngineStatus, releaseFastEngineMemory as releaseNativeMemory } from './fast';
import { releaseWasmMemory, wasmCell, wasmEngineStatus } from './wasm';

export type { EngineName, ResolvedEngine };
export { ENGINE_NAMES } from './types';
export { fastCell, fastEngineStatus, releaseForward } from './fast';
export { wasmCell, wasmEngineStatus } from './wasm';

/** The engine that will actually run when `engine` is requested. */
export function resolveEngine(engine: EngineName): ResolvedEngine {
  if (engine === 'reference') return 'reference';
  if (engine !== 'wasm' && fastEngineStatus().available) return 'native';
  return wasmEngineStatus().available ? 'wasm' : 'reference';
}

/** Why `engine` resolves to something else, in one line (undefined when it runs as asked or as `fast`). */
export function engineFallbackReason(engine: EngineName): string | undefined {
  const got = resolveEngine(engine);
  if (engine === 'fast' || engine === got) return undefined;
  const why = engine === 'native' ? fastEngineStatus().reason : wasmEngineStatus().reason;
  return `${engine} engine unavailable (${why}); using ${got}`;
}

/** The cell implementation for `kind` on `engine`, falling back to the reference cell. */
export function cellFor(kind: CellKind, engine: EngineName): CellDef {
  const got = resolveEngine(engine);
  const def = got === 'native' ? fastCell(kind) : got === 'wasm' ? wasmCell(kind) : null;
  return def ?? referenceCell(kind);
}

/** A CellResolver (core/model/network) for `engine`. */
export function cellResolver(engine: EngineName): (kind: CellKind) => CellDef {
  return (kind) => cellFor(kind, engine);
}

/** Frees the memory the float32 engines keep between calls (buffer pool, native scratch, wasm memory). */
export function releaseFastEngineMemory(): void {
  releaseNativeMemory();
  releaseWasmMemory();
}
