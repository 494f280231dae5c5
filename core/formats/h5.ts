/**
 * A thin, defensive wrapper over jsfive (a pure-JS HDF5 reader): path lookups, attributes as strings or JSON,
 * and numeric datasets as float64 tensors with size limits checked before any data is read.
 */
import * as hdf5 from 'jsfive';
import { clip, FormatError } from './errors';
import { MAX_MODEL_VALUES, numel, shapeStr, type RawTensor } from './tensors';

export type H5Group = hdf5.Group;

const H5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function isH5(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && H5_MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * jsfive throws strings and plain errors, and on damaged files writes diagnostics (with file contents) to the
 * console: silence that while it runs and turn every failure into a FormatError naming the operation.
 */
function guard<T>(what: string, f: () => T): T {
  const { log, warn } = console;
  console.log = () => {};
  console.warn = () => {};
  try {
    return f();
  } catch (e) {
    if (e instanceof FormatError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new FormatError(`HDF5: cannot ${what} (${clip(msg, 160)}); the file is damaged or uses an HDF5 feature this reader lacks`);
  } finally {
    console.log = log;
    console.warn = warn;
  }
}

export function openH5(bytes: Uint8Array): H5Group {
  if (!isH5(bytes)) throw new FormatError('not an HDF5 file (bad signature)');
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return guard('read the file header', () => new hdf5.File(buf, 'model'));
}

export function h5Keys(g: H5Group): string[] {
  return guard(`list ${clip(g.name)}`, () => g.keys);
}

/** The child at `path` (relative, "/"-separated), or undefined when it does not exist. */
export function h5Child(g: H5Group, path: string): H5Group | hdf5.Dataset | undefined {
  let cur: H5Group | hdf5.Dataset = g;
  for (const part of path.split('/').filter((p) => p !== '')) {
    if (!(cur instanceof hdf5.Group)) return undefined;
    const group: H5Group = cur;
    if (!h5Keys(group).includes(part)) return undefined;
    const next = guard(`open ${clip(path)}`, () => group.get(part));
    if (!next) return undefined;
    cur = next;
  }
  return cur;
}

export function h5Group(g: H5Group, path: string): H5Group | undefined {
  const c = h5Child(g, path);
  return c instanceof hdf5.Group ? c : undefined;
}

export function isDataset(x: unknown): x is hdf5.Dataset {
  return x instanceof hdf5.Dataset;
}

/** An attribute as a string (HDF5 strings may come back as strings, byte arrays or one-element arrays). */
export function h5AttrString(node: H5Group | hdf5.Dataset, name: string): string | undefined {
  const attrs = readAttrs(node);
  if (!Object.prototype.hasOwnProperty.call(attrs, name)) return undefined;
  return asString(attrs[name]);
}

export function h5AttrStrings(node: H5Group | hdf5.Dataset, name: string): string[] | undefined {
  const attrs = readAttrs(node);
  if (!Object.prototype.hasOwnProperty.call(attrs, name)) return undefined;
  const v = attrs[name];
  if (!Array.isArray(v)) {
    const s = asString(v);
    return s === undefined ? undefined : [s];
  }
  const out: string[] = [];
  for (const x of v) {
    const s = asString(x);
    if (s === undefined) return undefined;
    out.push(s);
  }
  return out;
}

function readAttrs(node: H5Group | hdf5.Dataset): Record<string, unknown> {
  return guard(`read attributes of ${clip(node.name)}`, () => {
    checkAttributeSizes(node);
    return node.attrs;
  });
}

/**
 * jsfive allocates and decodes as many values as an attribute's dataspace declares: each attribute message must
 * hold the bytes its declared count needs (count × element size; a variable-length string is a 16-byte
 * reference) before jsfive reads it.
 */
function checkAttributeSizes(node: H5Group | hdf5.Dataset): void {
  const o = rawObject(node);
  if (!o) return;
  const b = new Uint8Array(o.fh);
  const v = new DataView(o.fh);
  for (const m of o.msgs) {
    if (m.get('type') !== MSG_ATTRIBUTE) continue;
    const at = m.get('offset_to_message')!;
    const end = at + m.get('size')!;
    if (!(at >= 0 && end <= b.length && at + 9 <= end))
      throw new FormatError(`HDF5: an attribute message of ${clip(node.name)} lies outside the file`);
    const version = b[at];
    const pad = (n: number) => (version === 1 ? Math.ceil(n / 8) * 8 : n);
    let p = at + (version === 3 ? 9 : 8) + pad(v.getUint16(at + 2, true));
    if (p + 8 > end) continue; // too short to describe a type: jsfive fails on it by itself
    const itemSize = v.getUint32(p + 4, true);
    p += pad(v.getUint16(at + 4, true));
    if (p + 2 > end) continue;
    const ndims = b[p + 1];
    const first = p + (b[p] === 1 ? 8 : 4);
    let count = 1n;
    for (let i = 0; i < ndims && first + 8 * i + 8 <= end; i++) count *= v.getBigUint64(first + 8 * i, true);
    p += pad(v.getUint16(at + 6, true));
    if (count * BigInt(Math.max(1, itemSize)) > BigInt(Math.max(0, end - p)) || count > BigInt(MAX_H5_DATASET_VALUES)) {
      throw new FormatError(
        `HDF5: an attribute of ${clip(node.name)} declares ${count} values of ${itemSize} bytes, more than its ${Math.max(0, end - p)}-byte message holds (damaged or hostile file)`,
      );
    }
  }
}

/** Fixed-length HDF5 strings come back NUL-padded. */
function asString(v: unknown): string | undefined {
  if (typeof v === 'string') return v.replace(/\0+$/, '');
  if (v instanceof Uint8Array) return new TextDecoder().decode(v).replace(/\0+$/, '');
  if (Array.isArray(v) && v.length === 1) return asString(v[0]);
  return undefined;
}

const FLOAT_OR_INT = /^[<>|]?[fiub][1248]$/;

/**
 * One dataset read by jsfive may hold at most 2^24 values: the largest recurrent kernel of a 2048-unit LSTM
 * (2048 × 8192). jsfive builds a plain JS array of the declared size (tens of bytes a value) before it reads a
 * single chunk, so the declared shape is checked against this, against what the layer needs and against the
 * bytes present before any data is touched.
 */
export const MAX_H5_DATASET_VALUES = 1 << 24;
/** A dimension above this is no model weight (and jsfive would keep only its low 32 bits). */
const MAX_H5_DIM = 2 ** 31 - 1;

/** What the layer a dataset belongs to can use, from the model's config (see keras-topology.ts). */
export interface TensorBound {
  maxValues: number;
  maxDim: number;
  /** The layer, for messages: "layer gru (GRU, 5 units, 3 inputs)". */
  what: string;
}

/** jsfive keeps the object header's messages and the file buffer on `_dataobjects`; it has no public accessor. */
interface RawObject {
  fh: ArrayBuffer;
  msgs: Map<string, number>[];
  chunks?: unknown;
  filter_pipeline?: unknown;
  _get_data_message_properties(offset: number): [number, number, number, number];
}

const MSG_DATASPACE = 0x0001;
const MSG_LAYOUT = 0x0008;
const MSG_ATTRIBUTE = 0x000c;
const MSG_ATTRIBUTE_INFO = 0x0015;
const UNDEFINED_ADDRESS = 0xffffffffffffffffn;

function rawObject(node: H5Group | hdf5.Dataset): RawObject | undefined {
  const o = (node as unknown as { _dataobjects?: RawObject })._dataobjects;
  return o && o.fh instanceof ArrayBuffer && Array.isArray(o.msgs) ? o : undefined;
}

function msgOffset(o: RawObject, type: number): number | undefined {
  const m = o.msgs.find((x) => x.get('type') === type);
  return m?.get('offset_to_message');
}

function u64(o: RawObject, at: number): bigint {
  if (!(Number.isSafeInteger(at) && at >= 0 && at + 8 <= o.fh.byteLength))
    throw new FormatError('HDF5: a header message points outside the file');
  return new DataView(o.fh).getBigUint64(at, true);
}

/** The dataspace's dimensions as stored (64-bit); jsfive's `shape` keeps only the low 32 bits of each. */
function declaredShape(d: hdf5.Dataset, o: RawObject): bigint[] {
  const at = msgOffset(o, MSG_DATASPACE);
  if (at === undefined || at + 4 > o.fh.byteLength) throw new FormatError(`HDF5 dataset ${clip(d.name)} has no readable dataspace`);
  const b = new Uint8Array(o.fh);
  const version = b[at];
  const ndims = b[at + 1];
  if ((version !== 1 && version !== 2) || ndims > 32)
    throw new FormatError(`HDF5 dataset ${clip(d.name)} has an invalid dataspace (version ${version}, ${ndims} dimensions)`);
  const first = at + (version === 1 ? 8 : 4);
  return Array.from({ length: ndims }, (_, i) => u64(o, first + 8 * i));
}

/** Whether the node keeps (some of) its attributes in dense storage (a fractal heap), which jsfive cannot read. */
export function h5HasDenseAttributes(node: H5Group | hdf5.Dataset): boolean {
  const o = rawObject(node);
  const at = o && msgOffset(o, MSG_ATTRIBUTE_INFO);
  if (!o || at === undefined || at + 2 > o.fh.byteLength) return false;
  const flags = new Uint8Array(o.fh)[at + 1];
  return u64(o, at + 2 + (flags & 1 ? 2 : 0)) !== UNDEFINED_ADDRESS;
}

/**
 * Refuses a dataset whose declared size is impossible, more than its layer can use, over the global limit, or
 * larger than the bytes the file holds for it; returns its shape. Reads header messages only.
 */
function checkDeclaredSize(d: hdf5.Dataset, itemSize: number, bound: TensorBound | undefined, maxValues: number): number[] {
  const o = rawObject(d);
  if (!o) throw new FormatError(`HDF5 dataset ${clip(d.name)}: cannot read its header`);
  const name = clip(d.name);
  const big = declaredShape(d, o);
  const shown = () => clip(`[${big.join(', ')}]`);
  if (big.some((x) => x > BigInt(MAX_H5_DIM)))
    throw new FormatError(
      `HDF5 dataset ${name} declares shape ${shown()}: a dimension above 2^31 is no model weight (damaged or hostile file)`,
    );
  const shape = big.map(Number);
  const n = numel(shape);
  if (bound && (n > bound.maxValues || shape.some((x) => x > bound.maxDim))) {
    throw new FormatError(
      `HDF5 dataset ${name} declares shape ${shown()}, more than ${clip(bound.what)} can use (at most ${bound.maxValues} values, dimensions up to ${bound.maxDim})`,
    );
  }
  const limit = Math.min(maxValues, MAX_H5_DATASET_VALUES);
  if (n > limit) throw new FormatError(`HDF5 dataset ${name} is too large: shape ${shown()} declares ${n} values (limit ${limit})`);
  const bytes = n * itemSize;
  const at = msgOffset(o, MSG_LAYOUT);
  if (at === undefined) throw new FormatError(`HDF5 dataset ${name} has no data layout message`);
  const [, , layout, prop] = guard(`read the layout of ${name}`, () => o._get_data_message_properties(at));
  if (layout === 1) {
    const address = u64(o, prop);
    if (address === UNDEFINED_ADDRESS) {
      if (n > 0) throw new FormatError(`HDF5 dataset ${name} declares shape ${shown()} but stores no data`);
    } else if (address + BigInt(bytes) > BigInt(o.fh.byteLength)) {
      throw new FormatError(
        `HDF5 dataset ${name} declares ${bytes} bytes at offset ${address} but the file has only ${o.fh.byteLength} bytes (truncated or inconsistent)`,
      );
    }
  } else if (layout === 2) {
    const chunks = guard(`read the chunk shape of ${name}`, () => o.chunks);
    const chunkValues = Array.isArray(chunks) && chunks.every((c) => Number.isSafeInteger(c) && c > 0) ? numel(chunks as number[]) : NaN;
    // jsfive decompresses and walks whole chunks: one may not be much larger than the data it belongs to.
    if (!(chunkValues <= Math.max(n, 1 << 16)))
      throw new FormatError(
        `HDF5 dataset ${name} has chunks of ${clip(JSON.stringify(chunks) ?? '?')} for shape ${shown()} (inconsistent)`,
      );
    checkChunkIndex(o, name, shape, chunks as number[]);
    const filtered = guard(`read the filters of ${name}`, () => o.filter_pipeline) != null;
    if (!filtered && bytes > o.fh.byteLength)
      throw new FormatError(
        `HDF5 dataset ${name} declares ${bytes} uncompressed bytes but the file has only ${o.fh.byteLength} (truncated or inconsistent)`,
      );
  }
  return shape;
}

/**
 * jsfive reads a chunk index (a version 1 B-tree) level by level, following every child address: a node listed
 * many times, or a leaf listing more chunks than the data has, multiplies the decompression and copying work
 * without bound. Walks the index first, counting nodes and chunks against the number of chunks the shape needs.
 */
function checkChunkIndex(o: RawObject, name: string, shape: number[], chunks: number[]): void {
  const raw = o as unknown as { _chunk_address?: unknown; _chunk_dims?: unknown };
  const root = raw._chunk_address;
  const dims = raw._chunk_dims;
  if (typeof root !== 'number' || root >= o.fh.byteLength) return; // no chunk written yet: jsfive reads nothing
  if (typeof dims !== 'number' || dims !== shape.length + 1 || chunks.length !== shape.length)
    throw new FormatError(`HDF5 dataset ${name}: its chunk layout does not match its ${shape.length} dimensions`);
  const need = shape.reduce((a, d, i) => a * Math.ceil(d / chunks[i]), 1);
  const b = new Uint8Array(o.fh);
  const v = new DataView(o.fh);
  const entry = 16 + 8 * dims;
  const fail = (why: string): never => {
    throw new FormatError(`HDF5 dataset ${name}: its chunk index ${why} (damaged or hostile file)`);
  };
  let level = [root];
  let visits = 0;
  let chunksListed = 0;
  while (level.length > 0) {
    const next: number[] = [];
    for (const at of level) {
      if (++visits > 2 * need + 16) fail(`has more nodes than its ${need} chunks need`);
      if (
        !(Number.isSafeInteger(at) && at >= 0 && at + 24 <= b.length) ||
        String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]) !== 'TREE'
      )
        fail('points to something that is no B-tree node');
      const entries = v.getUint16(at + 6, true);
      if (at + 24 + entries * entry > b.length) fail('runs past the end of the file');
      if (b[at + 5] === 0) {
        chunksListed += entries;
        if (chunksListed > need) fail(`lists more than the ${need} chunks its shape has`);
      } else {
        for (let i = 0; i < entries; i++) next.push(Number(v.getBigUint64(at + 24 + i * entry + entry - 8, true)));
      }
    }
    level = next;
  }
}

/**
 * A numeric dataset as float64; refuses non-numeric types, and shapes that are invalid, larger than `bound`
 * (what its layer needs), than `maxValues` or than the file's bytes, before any data is read.
 */
export function h5ReadTensor(d: hdf5.Dataset, bound?: TensorBound, maxValues = MAX_MODEL_VALUES): RawTensor {
  const dtype = guard(`read the type of ${clip(d.name)}`, () => d.dtype);
  if (typeof dtype !== 'string' || !FLOAT_OR_INT.test(dtype)) {
    throw new FormatError(`HDF5 dataset ${clip(d.name)} has a non-numeric type ${clip(JSON.stringify(dtype) ?? String(dtype))}`);
  }
  const shape = guard(`read the shape of ${clip(d.name)}`, () => checkDeclaredSize(d, Number(dtype.slice(-1)), bound, maxValues));
  const n = numel(shape);
  const value = guard(`read ${clip(d.name)}`, () => d.value);
  if (!value || value.length !== n)
    throw new FormatError(`HDF5 dataset ${clip(d.name)}: read ${value?.length ?? 0} values for shape ${shapeStr(shape)}`);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = value[i];
    data[i] = typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : typeof x === 'boolean' ? +x : NaN;
  }
  return { shape, data };
}
