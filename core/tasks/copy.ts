/** Copy-first-input (paper benchmark 1): x_1..x_T i.i.d. N(0,1); the target is x_1, read out from h_T. */
import { syntheticTask, type SyntheticOpts } from './synthetic';
import { checkInt, type Task } from './types';

export function makeCopyTask(opts: SyntheticOpts & { T: number }): Task {
  const T = checkInt('copy: T', opts.T, 1);
  return syntheticTask(
    {
      name: 'copy',
      inputSize: 1,
      outputUnits: 1,
      seqLen: T,
      T,
      N: 0,
      fill(rng, x, y, B, b) {
        for (let t = 0; t < T; t++) x[t * B + b] = rng.normal();
        y[b] = x[b];
      },
    },
    opts,
  );
}
