/**
 * Resumable checkpoints: one safetensors file (float64, so a resume is bit-exact) holding the parameters,
 * the Adam moments and, in the metadata, the training config and counters including the RNG state, plus
 * a checksum of the whole file (checkpoint-checksum.ts) that loading verifies.
 */
import { readFileSync } from 'node:fs';
import type { CustomCellRef } from '../cells/types';
import { customRefsInFile } from '../custom/resolve';
import { describeFinding, findNonFinite } from '../model/finite-params';
import { validateArchitecture } from '../model/architecture';
import { expectedParamShapes } from '../model/model-file';
import type { ModelParams } from '../model/model';
import { readSafetensors, writeSafetensors } from '../model/safetensors';
import { writeFileAtomic } from '../util/fs-atomic';
import { normalizeConfig } from './config';
import { CHECKSUM_KEY, CHECKSUM_PLACEHOLDER, sealChecksum, verifyChecksum } from './checkpoint-checksum';
import type { TrainerResume } from './trainer';
import type { TrainConfig } from './types';

export const CHECKPOINT_FORMAT = 'rnn-memory-lens-checkpoint';

/** A checkpoint training will not resume from (unreadable, corrupt, non-finite); thrown before any run file changes. */
export class CheckpointRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointRefusedError';
  }
}

/** 'verified': the file's checksum matched; 'absent': an older version wrote it without one. */
export type ChecksumStatus = 'verified' | 'absent';

export function serializeCheckpoint(config: TrainConfig, snap: TrainerResume): Uint8Array {
  const tensors = new Map<string, { shape: number[]; data: Float64Array }>();
  for (const [name, t] of snap.model.params) {
    tensors.set(name, t);
    const m = snap.adamM.get(name);
    const v = snap.adamV.get(name);
    if (m && v) {
      tensors.set(`adam.m.${name}`, { shape: t.shape, data: m });
      tensors.set(`adam.v.${name}`, { shape: t.shape, data: v });
    }
  }
  const bytes = writeSafetensors(
    tensors,
    {
      format: CHECKPOINT_FORMAT,
      version: '1',
      architecture: JSON.stringify(snap.model.arch),
      config: JSON.stringify(config),
      state: JSON.stringify(snap.state),
      [CHECKSUM_KEY]: CHECKSUM_PLACEHOLDER,
    },
    'F64',
  );
  return sealChecksum(bytes);
}

export function saveCheckpoint(path: string, config: TrainConfig, snap: TrainerResume): void {
  writeFileAtomic(path, serializeCheckpoint(config, snap));
}

export function parseCheckpoint(bytes: Uint8Array): { config: TrainConfig; resume: TrainerResume; checksum: ChecksumStatus } {
  const checksum = verifyChecksum(bytes);
  const { tensors, metadata } = readSafetensors(bytes);
  if (checksum === 'absent' && Object.prototype.hasOwnProperty.call(metadata, CHECKSUM_KEY)) throw new Error('checksum entry is malformed');
  if (metadata.format !== CHECKPOINT_FORMAT) throw new Error('not a training checkpoint (format metadata missing)');
  if (metadata.version !== '1') throw new Error(`unsupported checkpoint version ${metadata.version}`);
  const arch = validateArchitecture(parseJson(metadata.architecture, 'architecture'));
  const config = normalizeConfig(parseJson(metadata.config, 'config') as Partial<TrainConfig>);
  const st = parseJson(metadata.state, 'state') as Record<string, unknown>;
  const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (!isCount(st.step) || !isCount(st.skipped) || !isCount(st.adamT) || !Array.isArray(st.rng)) {
    throw new Error('checkpoint state is malformed');
  }
  const params: ModelParams = new Map();
  const adamM = new Map<string, Float64Array>();
  const adamV = new Map<string, Float64Array>();
  for (const [name, shape] of expectedParamShapes(arch)) {
    const t = tensors.get(name);
    if (!t) throw new Error(`checkpoint is missing tensor "${name}"`);
    if (t.shape.join(',') !== shape.join(',')) throw new Error(`checkpoint tensor "${name}" has shape [${t.shape}], expected [${shape}]`);
    params.set(name, { shape, data: t.data });
    const m = tensors.get(`adam.m.${name}`);
    const v = tensors.get(`adam.v.${name}`);
    if (m && v && m.data.length === t.data.length && v.data.length === t.data.length) {
      adamM.set(name, m.data);
      adamV.set(name, v.data);
    }
  }
  // Training from NaN/Inf weights or moments only produces NaN; values beyond float32 cannot be saved
  // (model files are float32) and break the fast engine.
  const moments = (tag: string, m: Map<string, Float64Array>) =>
    [...m].map(([k, data]): [string, { data: Float64Array }] => [`adam.${tag}.${k}`, { data }]);
  const bad = findNonFinite(params, { float32: true })[0] ?? findNonFinite([...moments('m', adamM), ...moments('v', adamV)])[0];
  if (bad) throw new Error(`${describeFinding(bad)}; refusing to train from non-finite parameters`);
  return {
    checksum,
    config,
    resume: {
      model: { arch, params },
      adamM,
      adamV,
      state: {
        step: st.step as number,
        skipped: st.skipped as number,
        adamT: st.adamT as number,
        rng: st.rng as TrainerResume['state']['rng'],
      },
    },
  };
}

export function loadCheckpoint(path: string): { config: TrainConfig; resume: TrainerResume; checksum: ChecksumStatus } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CheckpointRefusedError(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
  try {
    return parseCheckpoint(bytes);
  } catch (e) {
    throw new CheckpointRefusedError(`${path}: ${(e as Error).message}`);
  }
}

/**
 * The custom cells a checkpoint's architecture names, read before the checkpoint itself (their code
 * defines its shapes); verifies the checksum first and refuses, naming the file, what cannot be read.
 */
export function checkpointCustomRefs(path: string): CustomCellRef[] {
  try {
    verifyChecksum(readFileSync(path));
    return customRefsInFile(path);
  } catch (e) {
    throw new CheckpointRefusedError(`${path}: ${(e as Error).message}`);
  }
}

function parseJson(s: string | undefined, what: string): unknown {
  if (s === undefined) throw new Error(`checkpoint metadata has no "${what}"`);
  try {
    return JSON.parse(s);
  } catch {
    throw new Error(`checkpoint metadata "${what}" is not valid JSON`);
  }
}
