/** How many numbers a forward pass keeps (and `trace` writes), known before anything runs. */
import { layerCell } from '../cells/index';
import type { CellResolver } from './network';
import type { Architecture } from './architecture';

/**
 * Numbers in the per-layer traces of a [T, B] batch: every layer's h and each of its gates (B·T·units each),
 * plus the readout's outputs. Gate counts come from the cells that would run (`cells`; custom cells must be
 * loaded). The count is a float, so it does not wrap for absurd sizes.
 */
export function traceValueCount(arch: Architecture, B: number, T: number, cells: CellResolver): number {
  let n = 0;
  for (const l of arch.layers) n += B * T * l.units * (1 + layerCell(l, cells).gateNames.length);
  return n + (arch.readout.perStep ? B * T : B) * arch.readout.units;
}
