/** Shared machinery for the generated (non-dataset) tasks: fresh or fixed-pool training data and a seeded test set. */
import { Rng } from '../util/rng';
import { checkInt, type Batch, type Task, type TaskKind } from './types';

export interface SampleSpec {
  name: TaskKind;
  inputSize: number;
  outputUnits: number;
  seqLen: number;
  T: number;
  N: number;
  /** Writes sample b of a batch of size B into x ([seqLen, B, inputSize]) and y ([B, outputUnits]). */
  fill(rng: Rng, x: Float64Array, y: Float64Array, B: number, b: number): void;
}

export interface SyntheticOpts {
  seed: number;
  testSize: number;
  trainSize?: number;
}

const TEST_SALT = 0x5eed;
const TRAIN_SALT = 0x7a15e7;

/** The splitmix32 finaliser: a bijection on uint32, so distinct pool indices get distinct seeds. */
function mix32(v: number): number {
  let z = v >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export function syntheticTask(spec: SampleSpec, opts: SyntheticOpts): Task {
  checkInt('seed', opts.seed, Number.MIN_SAFE_INTEGER);
  const testSize = checkInt('testSize', opts.testSize, 0);
  const trainSize = opts.trainSize === undefined ? undefined : checkInt('trainSize', opts.trainSize, 1);
  const seed = opts.seed >>> 0;
  const poolBase = mix32(seed ^ TRAIN_SALT);
  const newBatch = (B: number): Batch & { y: Float64Array } => ({
    x: new Float64Array(spec.seqLen * B * spec.inputSize),
    T: spec.seqLen,
    B,
    inputSize: spec.inputSize,
    y: new Float64Array(B * spec.outputUnits),
  });
  return {
    name: spec.name,
    inputSize: spec.inputSize,
    outputUnits: spec.outputUnits,
    activation: 'linear',
    loss: 'mse',
    seqLen: spec.seqLen,
    T: spec.T,
    N: spec.N,
    testSize,
    trainSize,
    trainBatch(rng, B) {
      checkInt('batch size', B, 1);
      const batch = newBatch(B);
      for (let b = 0; b < B; b++) {
        // A fixed training set of trainSize samples: sample i is regenerated from its own seed, so no storage is needed.
        const r = trainSize === undefined ? rng : new Rng(mix32(poolBase + rng.int(trainSize)));
        spec.fill(r, batch.x, batch.y, B, b);
      }
      return batch;
    },
    testBatches(B) {
      checkInt('batch size', B, 1);
      // Regenerated on each call (cheap next to evaluating a model on it) so callers may mutate batches freely.
      const rng = new Rng((seed ^ TEST_SALT) >>> 0);
      const out: Batch[] = [];
      for (let start = 0; start < testSize; start += B) {
        const nb = Math.min(B, testSize - start);
        const batch = newBatch(nb);
        for (let b = 0; b < nb; b++) spec.fill(rng, batch.x, batch.y, nb, b);
        out.push(batch);
      }
      return out;
    },
  };
}
