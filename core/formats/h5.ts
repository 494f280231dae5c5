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
  const attrs = guard(`read attributes of ${clip(node.name)}`, () => node.attrs);
  if (!Object.prototype.hasOwnProperty.call(attrs, name)) return undefined;
  return asString(attrs[name]);
}

export function h5AttrStrings(node: H5Group | hdf5.Dataset, name: string): string[] | undefined {
  const attrs = guard(`read attributes of ${clip(node.name)}`, () => node.attrs);
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

/** Fixed-length HDF5 strings come back NUL-padded. */
function asString(v: unknown): string | undefined {
  if (typeof v === 'string') return v.replace(/\0+$/, '');
  if (v instanceof Uint8Array) return new TextDecoder().decode(v).replace(/\0+$/, '');
  if (Array.isArray(v) && v.length === 1) return asString(v[0]);
  return undefined;
}

const FLOAT_OR_INT = /^[<>|]?[fiub][1248]$/;

/** A numeric dataset as float64; refuses non-numeric types and oversized shapes before reading the data. */
export function h5ReadTensor(d: hdf5.Dataset, maxValues = MAX_MODEL_VALUES): RawTensor {
  const shape = guard(`read the shape of ${clip(d.name)}`, () => d.shape);
  if (!Array.isArray(shape) || shape.some((n) => !Number.isSafeInteger(n) || n < 0) || shape.length > 32) {
    throw new FormatError(`HDF5 dataset ${clip(d.name)} has an invalid shape`);
  }
  const n = numel(shape);
  if (n > maxValues) throw new FormatError(`HDF5 dataset ${clip(d.name)} is too large (${clip(shapeStr(shape))})`);
  const dtype = guard(`read the type of ${clip(d.name)}`, () => d.dtype);
  if (typeof dtype !== 'string' || !FLOAT_OR_INT.test(dtype)) {
    throw new FormatError(`HDF5 dataset ${clip(d.name)} has a non-numeric type ${clip(JSON.stringify(dtype) ?? String(dtype))}`);
  }
  const value = guard(`read ${clip(d.name)}`, () => d.value);
  if (!value || value.length !== n) throw new FormatError(`HDF5 dataset ${clip(d.name)}: read ${value?.length ?? 0} values for shape ${shapeStr(shape)}`);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = value[i];
    data[i] = typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : typeof x === 'boolean' ? +x : NaN;
  }
  return { shape: shape.slice(), data };
}
