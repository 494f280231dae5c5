/**
 * Engine selection: 'fast' (native float32 kernels) when the addon is available, otherwise the
 * reference float64 cells. Training asks for 'fast' by default and reports resolveEngine()'s answer.
 */
import { referenceCell } from '../cells/index';
import type { CellDef, CellKind } from '../cells/types';
import type { EngineName } from './types';
import { fastCell, fastEngineStatus } from './fast';

export type { EngineName };
export { fastCell, fastEngineStatus, releaseFastEngineMemory, releaseForward } from './fast';

/** The engine that will actually run when `engine` is requested. */
export function resolveEngine(engine: EngineName): EngineName {
  return engine === 'fast' && fastEngineStatus().available ? 'fast' : 'reference';
}

/** The cell implementation for `kind` on `engine`, falling back to the reference cell. */
export function cellFor(kind: CellKind, engine: EngineName): CellDef {
  if (resolveEngine(engine) === 'fast') {
    const def = fastCell(kind);
    if (def) return def;
  }
  return referenceCell(kind);
}

/** A CellResolver (core/model/network) for `engine`. */
export function cellResolver(engine: EngineName): (kind: CellKind) => CellDef {
  return (kind) => cellFor(kind, engine);
}
