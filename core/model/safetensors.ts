/**
 * A standalone reader/writer for the safetensors format, safe on hostile input:
 *   [u64 LE header length N][N bytes UTF-8 JSON header][data buffer]
 * Header: {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}},
 * offsets relative to the data start, tensors little-endian and row-major.
 * Validation follows the reference implementation: the data buffer must be covered exactly,
 * without holes or overlap.
 */

export type SafeDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  /** Values converted to float64 (BOOL as 0/1). */
  data: Float64Array;
}

export class SafetensorsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`safetensors: ${message}`, options);
    this.name = 'SafetensorsError';
  }
}

const DTYPE_SIZE: Record<SafeDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Same limit as the reference implementation. */
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

interface Entry {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  begin: number;
  end: number;
}

export function readSafetensors(
  bytes: Uint8Array,
  opts: { maxHeaderBytes?: number } = {},
): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  const maxHeader = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (!isNonNegSafeInt(maxHeader)) throw new SafetensorsError(`maxHeaderBytes must be a non-negative integer (got ${maxHeader})`);
  if (bytes.length < 8) throw new SafetensorsError(`file is shorter than 8 bytes (${bytes.length} bytes), no header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // BigInt so that lengths above 2^53 are compared exactly.
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(maxHeader)) {
    throw new SafetensorsError(`oversized header: header length ${n64} exceeds the limit of ${maxHeader} bytes`);
  }
  const n = Number(n64);
  if (n > bytes.length - 8) {
    throw new SafetensorsError(
      `oversized header: header length ${n} is larger than the ${bytes.length - 8} bytes that follow it (truncated file?)`,
    );
  }
  const header = parseHeaderJson(bytes.subarray(8, 8 + n));
  const data = bytes.subarray(8 + n);

  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = checkMetadata(raw);
    else entries.push(checkEntry(name, raw));
  }
  checkCoverage(entries, data.length);

  const dataView = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decode(dataView, e) });
  }
  return { tensors, metadata };
}

function parseHeaderJson(raw: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch (err) {
    throw new SafetensorsError('header is not valid UTF-8', { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(`header is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SafetensorsError('header is not a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function checkMetadata(raw: unknown): Record<string, string> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SafetensorsError('"__metadata__" must be an object mapping strings to strings');
  }
  const pairs = Object.entries(raw);
  for (const [k, v] of pairs) {
    if (typeof v !== 'string') {
      throw new SafetensorsError(`"__metadata__" value for key ${clip(JSON.stringify(k))} is not a string (got ${typeOf(v)})`);
    }
  }
  // fromEntries defines own properties, so a "__proto__" key cannot touch the prototype.
  return Object.fromEntries(pairs) as Record<string, string>;
}

function checkEntry(name: string, raw: unknown): Entry {
  const where = `tensor ${clip(JSON.stringify(name))}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SafetensorsError(`${where}: entry is not an object`);
  }
  const o = raw as Record<string, unknown>;
  for (const key of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.prototype.hasOwnProperty.call(o, key)) throw new SafetensorsError(`${where}: missing "${key}"`);
  }
  if (typeof o.dtype !== 'string') throw new SafetensorsError(`${where}: "dtype" must be a string (got ${typeOf(o.dtype)})`);
  if (!Object.prototype.hasOwnProperty.call(DTYPE_SIZE, o.dtype)) {
    throw new SafetensorsError(
      `${where}: unknown or unsupported dtype ${clip(JSON.stringify(o.dtype))} (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`,
    );
  }
  const dtype = o.dtype as SafeDtype;
  if (!Array.isArray(o.shape)) throw new SafetensorsError(`${where}: "shape" must be an array (got ${typeOf(o.shape)})`);
  for (const d of o.shape) {
    if (!isNonNegSafeInt(d)) {
      throw new SafetensorsError(`${where}: shape dimensions must be non-negative integers (got ${clip(JSON.stringify(d))})`);
    }
  }
  const shape = (o.shape as number[]).slice();
  const offs = o.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !isNonNegSafeInt(offs[0]) || !isNonNegSafeInt(offs[1])) {
    throw new SafetensorsError(
      `${where}: "data_offsets" must be [begin, end] with non-negative integers (got ${clip(JSON.stringify(offs))})`,
    );
  }
  const [begin, end] = offs as [number, number];
  if (begin > end) throw new SafetensorsError(`${where}: data_offsets begin ${begin} is after end ${end}`);
  const span = end - begin;
  const bytes = byteSize(shape, DTYPE_SIZE[dtype]);
  if (bytes !== span) {
    const need = bytes === undefined ? 'more than 2^53' : String(bytes);
    throw new SafetensorsError(
      `${where}: data_offsets [${begin}, ${end}] span ${span} bytes but ${dtype} shape [${clip(shape.join(', '))}] needs ${need} bytes`,
    );
  }
  return { name, dtype, shape, begin, end };
}

/**
 * dtypeSize × product(shape), or undefined once it leaves the exact integer range. Stopping early keeps
 * a hostile shape from overflowing; float rounding is monotone, so a true product above 2^53 − 1 is caught.
 */
function byteSize(shape: number[], dtypeSize: number): number | undefined {
  if (shape.includes(0)) return 0;
  let acc = dtypeSize;
  for (const d of shape) {
    acc *= d;
    if (acc > Number.MAX_SAFE_INTEGER) return undefined;
  }
  return acc;
}

function checkCoverage(entries: Entry[], dataLength: number): void {
  let maxEnd = 0;
  let last: Entry | undefined;
  for (const e of entries) {
    if (e.end > maxEnd) {
      maxEnd = e.end;
      last = e;
    }
  }
  if (last && maxEnd > dataLength) {
    throw new SafetensorsError(
      `truncated file: tensor ${clip(JSON.stringify(last.name))} ends at data byte ${maxEnd} but the data buffer has only ${dataLength} bytes`,
    );
  }
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < pos) {
      throw new SafetensorsError(
        `overlapping tensors: ${clip(JSON.stringify(e.name))} [${e.begin}, ${e.end}] overlaps ${clip(JSON.stringify(prev!.name))} [${prev!.begin}, ${prev!.end}]`,
      );
    }
    if (e.begin > pos) {
      throw new SafetensorsError(
        `hole in data buffer: bytes [${pos}, ${e.begin}) before tensor ${clip(JSON.stringify(e.name))} belong to no tensor`,
      );
    }
    pos = e.end;
    prev = e;
  }
  if (pos !== dataLength) {
    throw new SafetensorsError(`data buffer not fully covered: ${dataLength - pos} trailing bytes after the last tensor`);
  }
}

function decode(v: DataView, e: Entry): Float64Array {
  const size = DTYPE_SIZE[e.dtype];
  const count = (e.end - e.begin) / size;
  const out = new Float64Array(count);
  const b = e.begin;
  switch (e.dtype) {
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = v.getFloat64(b + 8 * i, true);
      break;
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = v.getFloat32(b + 4 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = f16ToNumber(v.getUint16(b + 2 * i, true));
      break;
    case 'BF16':
      for (let i = 0; i < count; i++) out[i] = bf16ToNumber(v.getUint16(b + 2 * i, true));
      break;
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(v.getBigInt64(b + 8 * i, true));
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = v.getInt32(b + 4 * i, true);
      break;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = v.getInt16(b + 2 * i, true);
      break;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = v.getInt8(b + i);
      break;
    case 'U8':
      for (let i = 0; i < count; i++) out[i] = v.getUint8(b + i);
      break;
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = v.getUint8(b + i) !== 0 ? 1 : 0;
      break;
  }
  return out;
}

/** IEEE 754 binary16. */
export function f16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const bfScratch = new DataView(new ArrayBuffer(4));
/** bfloat16 is the top half of a float32. */
export function bf16ToNumber(bits: number): number {
  bfScratch.setUint32(0, (bits & 0xffff) << 16);
  return bfScratch.getFloat32(0);
}

export function writeSafetensors(
  tensors: Map<string, { shape: number[]; data: Float64Array | Float32Array }>,
  metadata: Record<string, string>,
  dtype: 'F32' | 'F64',
): Uint8Array {
  if (dtype !== 'F32' && dtype !== 'F64') throw new SafetensorsError(`cannot write dtype ${JSON.stringify(dtype)} (only F32, F64)`);
  const size = DTYPE_SIZE[dtype];
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new SafetensorsError(`metadata value for ${clip(JSON.stringify(k))} is not a string`);
  }
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = { ...metadata };
  let offset = 0;
  for (const name of names) {
    if (name === METADATA_KEY) throw new SafetensorsError(`tensor name ${METADATA_KEY} is reserved`);
    const t = tensors.get(name)!;
    if (!t.shape.every((d) => isNonNegSafeInt(d)))
      throw new SafetensorsError(`tensor ${JSON.stringify(name)}: invalid shape [${t.shape.join(', ')}]`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new SafetensorsError(
        `tensor ${JSON.stringify(name)}: shape [${t.shape.join(', ')}] needs ${count} values, data has ${t.data.length}`,
      );
    }
    // defineProperty: a tensor called "__proto__" must become a key, not a prototype.
    Object.defineProperty(header, name, {
      value: { dtype, shape: t.shape.slice(), data_offsets: [offset, offset + count * size] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    offset += count * size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let p = 8 + headerLen;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    if (dtype === 'F32') for (let i = 0; i < d.length; i++, p += 4) v.setFloat32(p, d[i], true);
    else for (let i = 0; i < d.length; i++, p += 8) v.setFloat64(p, d[i], true);
  }
  return out;
}

function isNonNegSafeInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function clip(s: string | undefined): string {
  if (s === undefined) return 'undefined';
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
