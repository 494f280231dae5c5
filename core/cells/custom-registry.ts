/**
 * Custom cells loaded in this thread, by the SHA-256 their layers reference. layerCell() and the model-file
 * checks look here; nothing in this module runs user code (loading does: core/custom/resolve.ts).
 */
import type { CellDef, CustomCellRef } from './types';

const loaded = new Map<string, CellDef>();

/** Makes `def` the cell of every layer whose reference has this sha256. */
export function registerCustomCell(sha256: string, def: CellDef): void {
  loaded.set(sha256, def);
}

export function findCustomCell(ref: Pick<CustomCellRef, 'sha256'> | undefined): CellDef | undefined {
  return ref ? loaded.get(ref.sha256) : undefined;
}

/** The loaded cell of a custom layer; throws a message that says how to load it. */
export function customCellDef(ref: CustomCellRef | undefined): CellDef {
  if (!ref) throw new Error('custom layer without a "custom" cell reference');
  const def = loaded.get(ref.sha256);
  if (!def) {
    throw new Error(
      `custom cell "${ref.name}" (${ref.source}) is not loaded; load it first (core/custom/resolve: loadCustomCellsFor, or --cell FILE)`,
    );
  }
  return def;
}

/** Forgets every loaded cell (tests). */
export function clearCustomCells(): void {
  loaded.clear();
}
