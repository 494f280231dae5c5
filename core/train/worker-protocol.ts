/** What a training run is asked to do, declared once: the run itself, its caller and the worker between them. */
import type { TrainConfig } from './types';

/** The request every layer passes on unchanged (plain data, so it crosses to the worker as is). */
export interface RunRequest {
  outDir: string;
  /** Config of a new run (ignored when resuming, except `steps`, which may extend the run). */
  config?: Partial<TrainConfig>;
  resume?: boolean;
  /** New total number of steps when resuming. */
  steps?: number;
  progressIntervalMs?: number;
  dataPath?: string;
  /** Whether a custom cell's code may run (cell 'custom'); default false in the run, the process policy in startTraining. */
  allowCustomCells?: boolean;
  /** Resuming a custom-cell run: use this cell file instead of the recorded one (which may have changed). */
  customCell?: string;
}

/** What the main thread hands a training worker. Events flow back as TrainEvent messages. */
export interface TrainWorkerInput extends RunRequest {
  /** Int32Array(1) over this buffer: non-zero asks the run to stop, save and report "cancelled". */
  cancel: SharedArrayBuffer;
}
