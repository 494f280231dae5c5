/** The training flags, read as the schema (core/train/config-schema) declares them; `train` and `sweep` share most. */
import { TRAIN_OPTIONS, type TrainOption } from '../train/config-schema';
import type { TrainConfig } from '../train/types';
import type { FlagReader } from './args';
import { engineFlag } from './input-limits';

/** Options `sweep` takes as lists or per run (task, cell, T, N) or not at all (checkpoint-every) are not shared. */
const NOT_SHARED: ReadonlySet<keyof TrainConfig> = new Set(['task', 'cell', 'T', 'N', 'checkpointEvery']);

function readOption(f: FlagReader, o: TrainOption): unknown {
  if (o.key === 'engine') return engineFlag(f);
  if (o.type === 'enum') return f.string(o.flag);
  return o.type === 'integer' ? f.int(o.flag) : f.number(o.flag);
}

function readOptions(f: FlagReader, wanted: (o: TrainOption) => boolean): Partial<TrainConfig> {
  const out: Record<string, unknown> = {};
  for (const o of TRAIN_OPTIONS) if (wanted(o)) out[o.key] = readOption(f, o);
  return out as Partial<TrainConfig>;
}

/** The flags `train` and `sweep` share (so both accept the same options). */
export function sharedTrainFlags(f: FlagReader): Partial<TrainConfig> {
  return readOptions(f, (o) => !NOT_SHARED.has(o.key));
}

/** Every training flag of `train` (validated later by normalizeConfig, which names the flag of a bad value). */
export function trainConfigFlags(f: FlagReader): Partial<TrainConfig> {
  return readOptions(f, () => true);
}
