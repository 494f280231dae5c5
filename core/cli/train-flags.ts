/** The training flags `train` and `sweep` share (one place, so both accept the same options). */
import type { TrainConfig } from '../train/types';
import type { FlagReader } from './args';
import { engineFlag } from './input-limits';

export function sharedTrainFlags(f: FlagReader): Partial<TrainConfig> {
  return {
    layers: f.int('layers'),
    units: f.int('units'),
    batch: f.int('batch'),
    steps: f.int('steps'),
    lr: f.number('lr'),
    seed: f.int('seed'),
    clipNorm: f.number('clip'),
    curriculum: f.int('curriculum'),
    evalEvery: f.int('eval-every'),
    testSize: f.int('test-size'),
    engine: engineFlag(f),
  };
}
