/**
 * Denoising (paper benchmark 2), the G1 encoding (official benchmark2.py): T noise steps of [value, marker] with
 * value ~ N(0,1) and marker 0 at the 5 relevant steps, −1 elsewhere; then one end step [0, +1] (seqLen T + 1).
 * The relevant steps lie in [0, T − N), so each value must be held at least N + 1 steps.
 * Targets: the 5 relevant values in chronological order, predicted at once from h at the end step.
 */
import { syntheticTask, type SyntheticOpts } from './synthetic';
import { checkInt, type Task } from './types';

export const DENOISE_MARKED = 5;

export function makeDenoiseTask(opts: SyntheticOpts & { T: number; N: number }): Task {
  const T = checkInt('denoise: T', opts.T, 1);
  const N = checkInt('denoise: N', opts.N, 0);
  if (T - N < DENOISE_MARKED) {
    throw new Error(`denoise: T − N must be at least ${DENOISE_MARKED} to place the marked values (got T=${T}, N=${N})`);
  }
  return syntheticTask(
    {
      name: 'denoise',
      inputSize: 2,
      outputUnits: DENOISE_MARKED,
      seqLen: T + 1,
      T,
      N,
      fill(rng, x, y, B, b) {
        const pos = rng.sampleWithoutReplacement(T - N, DENOISE_MARKED); // increasing
        let k = 0;
        for (let t = 0; t < T; t++) {
          const o = (t * B + b) * 2;
          const v = rng.normal();
          x[o] = v;
          if (k < DENOISE_MARKED && pos[k] === t) {
            x[o + 1] = 0;
            y[b * DENOISE_MARKED + k++] = v;
          } else {
            x[o + 1] = -1;
          }
        }
        const o = (T * B + b) * 2;
        x[o] = 0;
        x[o + 1] = 1;
      },
    },
    opts,
  );
}
