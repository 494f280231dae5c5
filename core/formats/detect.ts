/**
 * openAnyModel: recognises a model file by its content (not its extension) and converts it to our Model.
 * Our own .safetensors, PyTorch state dicts (.safetensors) and checkpoints (.pt/.pth), Keras 3 (.keras),
 * legacy Keras HDF5 (.h5) and TF.js LayersModels (model.json + shards, or their folder).
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Model } from '../model/model';
import { DEFAULT_MAX_HEADER_BYTES } from '../model/safetensors';
import { AnswerBook, clip, describeEngineError, escapeControls, FormatError, NeedsAnswers, type ArchitectureAnswers } from './errors';
import { isH5 } from './h5';
import { openKerasBytes, openKerasH5Bytes } from './keras';
import { openPtBytes } from './pt-zip';
import { openSafetensorsBytes } from './pytorch-safetensors';
import { readSidecar, sidecarPath, writeSidecar } from './sidecar';
import { openTfjsModel } from './tfjs';
import { folderShardReader } from './tfjs-shards';
import { isZip, readZip } from './zip';

export { NeedsAnswers, FormatError } from './errors';
export type { ArchitectureAnswers, Question } from './errors';

export interface OpenOptions {
  answers?: ArchitectureAnswers;
  /**
   * Store the answers used in `<file>.rnnmemory.json` (default false: opening a model writes nothing next to
   * it unless asked, e.g. CLI --remember-answers; the extension keeps answers in its own storage).
   */
  remember?: boolean;
}

export interface OpenedModel {
  model: Model;
  warnings: string[];
  /** What the file was read as, e.g. "PyTorch checkpoint (torch.save)". */
  source: string;
}

const MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024 - 1;
const MAX_MODEL_JSON_BYTES = 16 * 1024 * 1024;

function readBounded(path: string): Uint8Array {
  const st = statSync(path);
  if (!st.isFile()) throw new FormatError(`${path} is not a file`);
  if (st.size > MAX_FILE_BYTES) throw new FormatError(`${path} is too large (${st.size} bytes)`);
  return readFileSync(path);
}

function looksLikeSafetensors(b: Uint8Array): boolean {
  if (b.length < 10) return false;
  const n = new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0, true);
  if (n > BigInt(b.length - 8) && n <= BigInt(DEFAULT_MAX_HEADER_BYTES) && b[8] === 0x7b) {
    // A plausible header length and a JSON header that stops early: a cut-off safetensors file, not an unknown one.
    throw new FormatError(
      `safetensors header is truncated: it declares ${n} bytes but the file has only ${b.length - 8} after the length field`,
    );
  }
  return n > 1n && n <= BigInt(b.length - 8) && b[8] === 0x7b; // '{'
}

function looksLikeJson(b: Uint8Array): boolean {
  for (let i = 0; i < Math.min(b.length, 64); i++) {
    const c = b[i];
    if (c === 0x7b) return true;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0xef && c !== 0xbb && c !== 0xbf) return false;
  }
  return false;
}

/** Converts bytes already read; `path` locates TF.js shards. Exported for tests and in-memory callers. */
export function openModelBytes(bytes: Uint8Array, path: string, book: AnswerBook): { model: Model; warnings: string[]; kind: string } {
  if (isZip(bytes)) {
    const { names } = readZip(bytes, () => false);
    if (names.includes('config.json') && names.includes('model.weights.h5')) return openKerasBytes(bytes, book, path);
    if (names.some((n) => /^[^/]+\/data\.pkl$/.test(n))) return openPtBytes(bytes, book, path);
    throw new FormatError(
      `zip archive that is neither a Keras 3 .keras file nor a torch.save checkpoint (entries: ${names
        .slice(0, 6)
        .map((n) => clip(n, 40))
        .join(', ')})`,
    );
  }
  if (isH5(bytes)) return openKerasH5Bytes(bytes, book, path);
  if (looksLikeSafetensors(bytes)) return openSafetensorsBytes(bytes, book, path);
  if (looksLikeJson(bytes)) {
    // A model.json holds the topology and manifest only (weights are in shards): parsing a huge one costs ~10× its size.
    if (bytes.length > MAX_MODEL_JSON_BYTES)
      throw new FormatError(
        `model.json has ${bytes.length} bytes, more than a TF.js topology and manifest need (limit ${MAX_MODEL_JSON_BYTES})`,
      );
    const text = new TextDecoder().decode(bytes);
    return openTfjsModel(text, folderShardReader(dirname(path)), book, path);
  }
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) return openPtBytes(bytes, book, path); // legacy torch.save: explained there
  throw new FormatError(
    'unrecognised model file: expected safetensors, a PyTorch .pt/.pth checkpoint, a Keras .keras or .h5 file, or a TF.js model.json',
  );
}

export async function openAnyModel(path: string, opts: OpenOptions = {}): Promise<OpenedModel> {
  let file = path;
  try {
    if (statSync(path).isDirectory()) file = join(path, 'model.json');
  } catch (e) {
    throw new FormatError(`cannot open ${path}: ${(e as Error).message}`);
  }
  const warnings: string[] = [];
  const stored = readSidecar(file, warnings);
  const book = new AnswerBook({ ...stored, ...opts.answers });
  let res: { model: Model; warnings: string[]; kind: string };
  try {
    res = openModelBytes(readBounded(file), file, book);
  } catch (e) {
    if (e instanceof NeedsAnswers) throw e;
    if (e instanceof FormatError) throw new FormatError(`cannot open ${file}: ${e.message}`, { cause: e });
    const engine = describeEngineError(e); // the engine ran out of stack or memory: say what in the file did it
    if (engine) throw new FormatError(`cannot open ${file}: ${engine}`, { cause: e });
    throw new FormatError(`cannot open ${file}: ${(e as Error).message ?? String(e)}`, { cause: e });
  }
  const used = book.used;
  const changed = Object.keys(used).some((k) => stored[k] !== used[k]);
  if (opts.remember === true && changed) {
    try {
      writeSidecar(file, { ...stored, ...used });
    } catch (e) {
      warnings.push(`could not remember the answers in ${sidecarPath(file)}: ${(e as Error).message}`);
    }
  }
  return { model: res.model, warnings: [...warnings, ...res.warnings].map(escapeControls), source: res.kind };
}
