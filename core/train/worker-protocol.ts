/** What the main thread hands a training worker. Events flow back as TrainEvent messages. */
import type { TrainConfig } from './types';

export interface TrainWorkerInput {
  outDir: string;
  config?: Partial<TrainConfig>;
  resume?: boolean;
  steps?: number;
  /** Int32Array(1) over this buffer: non-zero asks the run to stop, save and report "cancelled". */
  cancel: SharedArrayBuffer;
  progressIntervalMs?: number;
  dataPath?: string;
  /** Whether a custom cell's code may run in this worker. */
  allowCustomCells?: boolean;
  /** Resume with this cell file instead of the recorded one. */
  customCell?: string;
}
