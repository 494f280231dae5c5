/** Random layer parameters for tests: the cell's own initialisation plus Gaussian noise. */
import type { CellDef, LayerParams } from '../../core/cells/types';
import { initParam } from '../../core/util/init';
import type { Rng } from '../../core/util/rng';

/**
 * Initialised parameters plus `noise`·N(0, 1) (drawn right after each parameter's initialisation), so that
 * gates are away from their symmetric starting points.
 */
export function noisyParams(def: CellDef, I: number, H: number, rng: Rng, noise: number): LayerParams {
  const p: LayerParams = {};
  for (const s of def.paramSpecs(I, H)) {
    const v = initParam(rng, s.init, s.shape);
    for (let i = 0; i < v.length; i++) v[i] += noise * rng.normal();
    p[s.name] = v;
  }
  return p;
}
