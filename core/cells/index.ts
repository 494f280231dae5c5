/** Registry of the reference (float64, plain TypeScript) cell implementations. */
import { brcCell } from './brc';
import { gruCell } from './gru';
import { makeGruVariant } from './gru-variant';
import { lstmCell } from './lstm';
import { makeLstmVariant } from './lstm-variant';
import { nbrcCell } from './nbrc';
import { makeSimpleRnnCell, simpleRnnCell } from './simple-rnn';
import { customCellDef } from './custom-registry';
import type { CellDef, CellKind, CellOptions, CustomCellRef, LayerCellKind } from './types';

export const referenceCells: Record<CellKind, CellDef> = {
  brc: brcCell,
  nbrc: nbrcCell,
  gru: gruCell,
  lstm: lstmCell,
};

export function referenceCell(kind: CellKind): CellDef {
  const def = referenceCells[kind];
  if (!def) throw new Error(`unknown cell "${kind}"`);
  return def;
}

/** True when a layer needs math that engines do not implement: non-default options, or a non-trainable cell. */
export function hasCellOptions(spec: { cell: LayerCellKind } & CellOptions): boolean {
  const ra = spec.recurrentActivation ?? 'sigmoid';
  switch (spec.cell) {
    case 'gru':
      return ra !== 'sigmoid' || spec.resetAfter === false;
    case 'lstm':
      return ra !== 'sigmoid';
    case 'simple_rnn':
    case 'custom':
      return true; // engines only know CellKind
    default:
      return false;
  }
}

const variants = new Map<string, CellDef>();

/**
 * The cell for one layer: `cells(kind)` (possibly a fast engine) for default math, otherwise the reference
 * variant with the layer's options, so an engine that only knows the defaults is never given other math.
 */
export function layerCell(
  spec: { cell: LayerCellKind; custom?: CustomCellRef } & CellOptions,
  cells: (kind: CellKind) => CellDef = referenceCell,
): CellDef {
  if (spec.cell === 'custom') return customCellDef(spec.custom); // user-defined, loaded into this thread
  if (!hasCellOptions(spec)) return cells(spec.cell as CellKind);
  if (spec.cell === 'simple_rnn' && (spec.activation ?? 'tanh') === 'tanh') return simpleRnnCell;
  const ra = spec.recurrentActivation ?? 'sigmoid';
  const key = `${spec.cell}|${ra}|${spec.resetAfter !== false}|${spec.activation ?? 'tanh'}`;
  let def = variants.get(key);
  if (!def) {
    if (spec.cell === 'gru') def = makeGruVariant({ resetAfter: spec.resetAfter !== false, recurrentActivation: ra });
    else if (spec.cell === 'lstm') def = makeLstmVariant(ra);
    else def = makeSimpleRnnCell(spec.activation ?? 'tanh');
    variants.set(key, def);
  }
  return def;
}
