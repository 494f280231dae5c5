/**
 * Sequential MNIST with black pixels (paper benchmark 3, G1): the 784 pixels one per step, row-major, not permuted,
 * scaled x/255 to [0,1], then N black (0) pixels; the class is read out from h at the last step.
 * Test set: the FIRST testSize digits of the data file (balanced, because the file interleaves digits; its tail is
 * not — digit 5 runs out first). Training: the remaining digits, sampled uniformly with replacement.
 */
import type { Rng } from '../util/rng';
import { loadMnist, MNIST_PIXELS, type MnistData } from './mnist-data';
import { checkInt, type Batch, type Task } from './types';

export interface SmnistOpts {
  N: number;
  testSize: number;
  /** Use only the first trainSize training digits. */
  trainSize?: number;
  dataPath?: string;
  /** Preloaded digits (tests); otherwise loadMnist(dataPath). */
  data?: MnistData;
}

export function makeSmnistTask(opts: SmnistOpts): Task {
  const N = checkInt('smnist: N', opts.N, 0);
  const testSize = checkInt('smnist: testSize', opts.testSize, 0);
  const data = opts.data ?? loadMnist(opts.dataPath);
  const available = data.count - testSize;
  if (available < 1) throw new Error(`smnist: testSize ${testSize} leaves no training digits (the data has ${data.count})`);
  const trainSize = opts.trainSize === undefined ? undefined : checkInt('smnist: trainSize', opts.trainSize, 1);
  if (trainSize !== undefined && trainSize > available) {
    throw new Error(`smnist: trainSize ${trainSize} exceeds the ${available} digits left after the test set`);
  }
  const trainCount = trainSize ?? available;
  const seqLen = MNIST_PIXELS + N;

  // Black tail pixels stay 0 from the allocation.
  const build = (indices: ArrayLike<number>): Batch => {
    const B = indices.length;
    const x = new Float64Array(seqLen * B);
    const labels = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const idx = indices[b];
      labels[b] = data.labels[idx];
      const off = idx * MNIST_PIXELS;
      for (let p = 0; p < MNIST_PIXELS; p++) x[p * B + b] = data.pixels[off + p] / 255;
    }
    return { x, T: seqLen, B, inputSize: 1, labels };
  };

  return {
    name: 'smnist',
    inputSize: 1,
    outputUnits: 10,
    activation: 'softmax',
    loss: 'crossentropy',
    seqLen,
    T: MNIST_PIXELS,
    N,
    testSize,
    trainSize,
    trainBatch(rng: Rng, B: number) {
      checkInt('batch size', B, 1);
      const idx = new Int32Array(B);
      for (let b = 0; b < B; b++) idx[b] = testSize + rng.int(trainCount);
      return build(idx);
    },
    testBatches(B: number) {
      checkInt('batch size', B, 1);
      const out: Batch[] = [];
      for (let start = 0; start < testSize; start += B) {
        const nb = Math.min(B, testSize - start);
        out.push(build(Int32Array.from({ length: nb }, (_, i) => start + i)));
      }
      return out;
    },
  };
}
