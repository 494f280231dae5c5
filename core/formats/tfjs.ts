/**
 * TensorFlow.js LayersModel: model.json ({format: "layers-model", modelTopology, weightsManifest}) plus binary
 * shards. Each manifest group's shards concatenate into one buffer holding its weights back to back,
 * little-endian, in manifest order; quantized weights (uint8/uint16 affine, float16) are dequantized.
 * The topology is Keras JSON, read by keras-topology.ts with TF.js semantics (hard_sigmoid = 0.2x + 0.5).
 */
import { f16ToNumber } from '../model/safetensors';
import { validateTaskInfo, type Architecture } from '../model/architecture';
import { AnswerBook, clip, FormatError } from './errors';
import { convertKerasModel, type NamedWeight } from './keras-topology';
import type { ImportResult } from './pytorch-safetensors';
import { MAX_MODEL_VALUES, numel, shapeStr } from './tensors';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number };
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

const MAX_SHARDS = 4096;

/** A shard path must stay inside the model's folder: relative, no "..", no scheme. */
export function checkShardPath(p: unknown): string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 512)
    throw new FormatError('weightsManifest: a shard path is not a short string');
  const clean = p.replace(/^\.\//, '');
  if (
    /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(clean) ||
    clean.startsWith('/') ||
    clean.includes('\\') ||
    clean.includes('\0') ||
    clean.split('/').some((s) => s === '..' || s === '.' || s === '')
  ) {
    throw new FormatError(`weightsManifest: shard path ${JSON.stringify(clip(p))} must be a plain relative path inside the model folder`);
  }
  return clean;
}

export interface TfjsManifest {
  topology: unknown;
  groups: { paths: string[]; weights: WeightEntry[] }[];
  metadata?: unknown;
}

export function parseModelJson(text: string): TfjsManifest {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`model.json is not valid JSON (${clip((e as Error).message)})`);
  }
  if (!isObj(j)) throw new FormatError('model.json is not a JSON object');
  if (j.format !== undefined && j.format !== 'layers-model') {
    throw new FormatError(
      `model.json has format ${JSON.stringify(clip(String(j.format)))}: only TF.js LayersModel ("layers-model") files are supported, not graph models`,
    );
  }
  let topology = j.modelTopology;
  if (isObj(topology) && isObj(topology.model_config)) topology = topology.model_config; // converted from Keras
  if (!isObj(topology)) throw new FormatError('model.json has no modelTopology');
  if (!Array.isArray(j.weightsManifest)) throw new FormatError('model.json has no weightsManifest');
  const groups = j.weightsManifest.map((g, gi) => {
    if (!isObj(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights))
      throw new FormatError(`weightsManifest[${gi}] must have "paths" and "weights" arrays`);
    // TF.js writes 4 MB shards: even the largest model we read (MAX_MODEL_VALUES float32) needs 64 of them.
    if (g.paths.length > MAX_SHARDS)
      throw new FormatError(`weightsManifest[${gi}] lists ${g.paths.length} shards (at most ${MAX_SHARDS} are read)`);
    const weights = g.weights.map((w, wi): WeightEntry => {
      const where = `weightsManifest[${gi}].weights[${wi}]`;
      if (!isObj(w) || typeof w.name !== 'string' || !Array.isArray(w.shape) || typeof w.dtype !== 'string')
        throw new FormatError(`${where} needs name, shape and dtype`);
      if (!w.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0) || w.shape.length > 32)
        throw new FormatError(`${where}: invalid shape`);
      const q = isObj(w.quantization) ? w.quantization : undefined;
      if (q && (typeof q.dtype !== 'string' || !['uint8', 'uint16', 'float16'].includes(q.dtype)))
        throw new FormatError(`${where}: unsupported quantization`);
      if (q && q.dtype !== 'float16' && (typeof q.scale !== 'number' || typeof q.min !== 'number'))
        throw new FormatError(`${where}: quantization needs numeric scale and min`);
      if (!q && !['float32', 'int32', 'bool'].includes(w.dtype))
        throw new FormatError(`${where}: unsupported dtype ${JSON.stringify(clip(w.dtype))}`);
      return { name: w.name, shape: w.shape as number[], dtype: w.dtype, quantization: q as WeightEntry['quantization'] };
    });
    return { paths: g.paths.map(checkShardPath), weights };
  });
  return { topology, groups, metadata: j.userDefinedMetadata };
}

/**
 * Reads the shard at a checked relative path. `maxBytes` is what the manifest still needs from this group: a
 * reader should refuse a larger file before reading it (see tfjs-shards.ts); larger results are refused here.
 */
export type ShardReader = (path: string, maxBytes: number) => Uint8Array;

/** Bytes each group's weights need, checked against the global limit before any shard is read. */
function groupNeeds(m: TfjsManifest): number[] {
  let total = 0;
  const seen = new Set<string>();
  return m.groups.map((g) => {
    let need = 0;
    for (const w of g.weights) {
      const n = numel(w.shape);
      total += n;
      if (total > MAX_MODEL_VALUES) throw new FormatError(`model too large: more than ${MAX_MODEL_VALUES} weight values`);
      need += n * BYTES[w.quantization?.dtype ?? w.dtype];
    }
    for (const p of g.paths) {
      // One file listed many times would multiply its bytes (and the reading) without bound.
      if (seen.has(p)) throw new FormatError(`weightsManifest lists the shard ${JSON.stringify(clip(p, 60))} more than once`);
      seen.add(p);
    }
    return need;
  });
}

function decodeWeights(m: TfjsManifest, readShard: ShardReader): NamedWeight[] {
  const out: NamedWeight[] = [];
  const needs = groupNeeds(m);
  for (const [gi, g] of m.groups.entries()) {
    const need = needs[gi];
    // Shards are read one by one, each allowed only the bytes still needed: memory follows the files present.
    const shards: Uint8Array[] = [];
    let size = 0;
    for (const path of g.paths) {
      const s = readShard(path, need - size);
      if (size + s.length > need) {
        throw new FormatError(
          `weight shards of weightsManifest[${gi}] hold ${size + s.length} bytes (or more) but the manifest needs ${need} (${JSON.stringify(clip(path, 60))} is too long or mismatched)`,
        );
      }
      shards.push(s);
      size += s.length;
    }
    if (size !== need) {
      throw new FormatError(
        `weight shards of weightsManifest[${gi}] (${g.paths.length} file${g.paths.length === 1 ? '' : 's'}, first ${JSON.stringify(clip(g.paths[0] ?? '', 60))}) hold ${size} bytes but the manifest needs ${need} (truncated or mismatched files?)`,
      );
    }
    const buf = new Uint8Array(size);
    let at = 0;
    for (const s of shards) {
      buf.set(s, at);
      at += s.length;
    }
    const v = new DataView(buf.buffer);
    let off = 0;
    for (const w of g.weights) {
      const n = numel(w.shape);
      const data = new Float64Array(n);
      const q = w.quantization;
      const kind = q?.dtype ?? w.dtype;
      for (let i = 0; i < n; i++) {
        switch (kind) {
          case 'float32':
            data[i] = v.getFloat32(off + 4 * i, true);
            break;
          case 'int32':
            data[i] = v.getInt32(off + 4 * i, true);
            break;
          case 'bool':
            data[i] = v.getUint8(off + i) ? 1 : 0;
            break;
          case 'float16':
            data[i] = f16ToNumber(v.getUint16(off + 2 * i, true));
            break;
          case 'uint8':
            data[i] = q!.scale! * v.getUint8(off + i) + q!.min!;
            break;
          case 'uint16':
            data[i] = q!.scale! * v.getUint16(off + 2 * i, true) + q!.min!;
            break;
        }
      }
      off += n * BYTES[kind];
      out.push({ name: w.name, tensor: { shape: w.shape.slice(), data } });
    }
  }
  return out;
}

/** Reads a LayersModel given model.json's text and a reader for its shards (paths already checked). */
export function openTfjsModel(
  modelJson: string,
  readShard: ShardReader,
  book: AnswerBook,
  source: string,
): ImportResult & { kind: string } {
  const m = parseModelJson(modelJson);
  const all = decodeWeights(m, readShard);
  const used = new Set<NamedWeight>();
  const res = convertKerasModel(
    m.topology,
    {
      layerWeights(name) {
        const ws = all.filter((w) => w.name.startsWith(`${name}/`));
        ws.forEach((w) => used.add(w));
        return ws;
      },
    },
    { hardSigmoid: 'hard_sigmoid', resetAfterDefault: false, label: 'TensorFlow.js' },
    book,
    source,
  );
  const unused = all.filter((w) => !used.has(w));
  if (unused.length > 0) {
    res.warnings.push(
      `${unused.length} weight${unused.length > 1 ? 's' : ''} belong to no supported layer and were ignored (${unused
        .slice(0, 4)
        .map((w) => `${clip(w.name, 40)} ${shapeStr(w.tensor.shape)}`)
        .join(', ')})`,
    );
  }
  const task = taskFromMetadata(m.metadata);
  if (task) res.model.arch.task = task;
  return { ...res, kind: 'TensorFlow.js LayersModel' };
}

/** Our task metadata (as test/helpers/tfjs-export.ts writes it), validated with the same limits as our own model files. */
function taskFromMetadata(meta: unknown): Architecture['task'] | undefined {
  const task = isObj(meta) && isObj(meta.rnnMemoryLens) ? meta.rnnMemoryLens.task : undefined;
  if (task === undefined || task === null) return undefined;
  try {
    return validateTaskInfo(task, 'userDefinedMetadata.rnnMemoryLens: ');
  } catch (e) {
    throw new FormatError((e as Error).message);
  }
}
