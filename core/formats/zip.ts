/**
 * Reads zip archives (PyTorch .pt, Keras .keras) by their central directory, as torch.load (miniz) and Python's
 * zipfile do, and refuses archives whose local headers tell a different story (another name, size, method or
 * position, or bytes hidden between entries), so no reader can see other contents than PyTorch does. Entries are
 * inflated only on request, after their declared size has been checked against the caller's need and the limits,
 * and inflation stops at that size, so a zip bomb costs no more than what the request justifies.
 */
import { Inflate } from 'fflate';
import { clip, FormatError } from './errors';

export interface ZipLimits {
  maxEntryBytes: number;
  maxTotalBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntryBytes: 1024 * 1024 * 1024, maxTotalBytes: 2 * 1024 * 1024 * 1024 };

const MAX_ENTRIES = 100_000;
/** Deflate cannot expand by more than 1032:1 (258 bytes per 2-bit code); more is a crafted or corrupt header. */
const MAX_DEFLATE_RATIO = 1032;
/**
 * Compressed input is fed in slices so a deflated entry's output is counted (and capped) as it arrives; a slice
 * is sized to what is still wanted (at most 1032 output bytes per input byte), so a bomb overshoots the cap by
 * at most about 256 KB.
 */
const sliceFor = (remaining: number) => Math.min(256 * 1024, Math.ceil(remaining / MAX_DEFLATE_RATIO) + 256);

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  /** Uncompressed size, as the central directory declares it. */
  size: number;
  headerOffset: number;
  dataOffset: number;
}

export interface ZipDirectory {
  /** Entry names in central-directory order. */
  names: string[];
  entries: Map<string, ZipEntry>;
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const SIG_DESCRIPTOR = 0x08074b50;
const U32_MAX = 0xffffffff;

/** Parses and cross-checks the central directory; inflates nothing. */
export function readZipDirectory(bytes: Uint8Array): ZipDirectory {
  if (!isZip(bytes)) throw new FormatError('not a zip archive');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = findEndRecord(bytes, v);
  if (end < 0) throw new FormatError('truncated zip archive (no end-of-central-directory record)');
  if (v.getUint16(end + 4, true) !== 0 || v.getUint16(end + 6, true) !== 0)
    throw new FormatError('multi-disk zip archives are not supported');
  let count = v.getUint16(end + 10, true);
  let cdSize = v.getUint32(end + 12, true);
  let cdOffset = v.getUint32(end + 16, true);
  let cdLimit = end; // the directory must end before the record that points at it
  if (end >= 20 && v.getUint32(end - 20, true) === SIG_LOCATOR64) {
    const at = safeU64(v, end - 12, 'zip64 end record offset');
    if (at + 56 > end - 20 || v.getUint32(at, true) !== SIG_END64)
      throw new FormatError('corrupt zip archive (zip64 end record not where its locator says)');
    const count64 = safeU64(v, at + 32, 'zip64 entry count');
    const size64 = safeU64(v, at + 40, 'zip64 directory size');
    const offset64 = safeU64(v, at + 48, 'zip64 directory offset');
    // Where the classic record is not saturated, both records must agree (else two readers could see two directories).
    if (
      (count !== 0xffff && count !== count64) ||
      (cdSize !== U32_MAX && cdSize !== size64) ||
      (cdOffset !== U32_MAX && cdOffset !== offset64)
    ) {
      throw new FormatError('corrupt zip archive (the zip64 and classic end records disagree)');
    }
    count = count64;
    cdSize = size64;
    cdOffset = offset64;
    cdLimit = at;
  }
  if (count > MAX_ENTRIES) throw new FormatError(`zip archive has too many entries (${count}, limit ${MAX_ENTRIES})`);
  if (cdOffset + cdSize !== cdLimit) throw new FormatError('corrupt zip archive (the central directory is not where the end record says)');
  const entries = new Map<string, ZipEntry>();
  const names: string[] = [];
  const nameBytes = new Map<string, Uint8Array>();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdLimit || v.getUint32(p, true) !== SIG_CENTRAL)
      throw new FormatError(`corrupt zip archive (central directory entry ${i} is damaged)`);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cdLimit) throw new FormatError(`corrupt zip archive (central directory entry ${i} is damaged)`);
    const raw = bytes.subarray(p + 46, p + 46 + nameLen);
    const name = new TextDecoder().decode(raw);
    if (entries.has(name)) throw new FormatError(`zip archive has the entry ${clip(name)} twice`);
    const z64 = zip64Extra(v, p + 46 + nameLen, extraLen);
    let size = v.getUint32(p + 24, true);
    let compressedSize = v.getUint32(p + 20, true);
    let headerOffset = v.getUint32(p + 42, true);
    // The zip64 extra field holds, in this order, only the fields saturated in the fixed part.
    let k = 0;
    const wide = (field: number): number => {
      if (field !== U32_MAX) return field;
      if (z64 < 0 || k + 8 > v.getUint16(z64 + 2, true))
        throw new FormatError(`zip entry ${clip(name)}: size or offset saturated without a zip64 field`);
      const x = safeU64(v, z64 + 4 + k, 'zip64 field');
      k += 8;
      return x;
    };
    size = wide(size);
    compressedSize = wide(compressedSize);
    headerOffset = wide(headerOffset);
    if (v.getUint16(p + 34, true) !== 0 && v.getUint16(p + 34, true) !== 0xffff)
      throw new FormatError('multi-disk zip archives are not supported');
    const flags = v.getUint16(p + 8, true);
    const entry: ZipEntry = {
      name,
      method: v.getUint16(p + 10, true),
      flags,
      crc: v.getUint32(p + 16, true),
      compressedSize,
      size,
      headerOffset,
      dataOffset: 0,
    };
    entries.set(name, entry);
    names.push(name);
    nameBytes.set(name, raw);
    p = next;
  }
  if (p !== cdLimit) throw new FormatError('corrupt zip archive (the central directory size disagrees with its entries)');
  checkLocalHeaders(bytes, v, [...entries.values()], nameBytes, cdOffset);
  return { names, entries };
}

/**
 * Every local header must repeat what the central directory says, and the entries (header, data, data
 * descriptor) must tile the bytes before the directory exactly: no overlaps (quadratic zip bombs) and no
 * unlisted bytes (entries only a streaming reader would see).
 */
function checkLocalHeaders(bytes: Uint8Array, v: DataView, list: ZipEntry[], nameBytes: Map<string, Uint8Array>, cdOffset: number): void {
  list.sort((a, b) => a.headerOffset - b.headerOffset);
  let expected = 0;
  for (const e of list) {
    const what = `zip entry ${clip(e.name)}`;
    const disagree = (field: string) =>
      new FormatError(
        `${what}: its local header disagrees with the central directory (${field}); refusing an archive that different readers would read differently`,
      );
    if (e.headerOffset !== expected)
      throw disagree(e.headerOffset < expected ? 'overlaps the previous entry' : `${e.headerOffset - expected} unlisted bytes before it`);
    const h = e.headerOffset;
    if (h + 30 > cdOffset || v.getUint32(h, true) !== SIG_LOCAL) throw disagree('no local header at its offset');
    const nameLen = v.getUint16(h + 26, true);
    const extraLen = v.getUint16(h + 28, true);
    const raw = nameBytes.get(e.name)!;
    if (nameLen !== raw.length || !sameBytes(bytes.subarray(h + 30, h + 30 + nameLen), raw)) throw disagree('name');
    if (v.getUint16(h + 8, true) !== e.method) throw disagree('compression method');
    const flags = v.getUint16(h + 6, true);
    if ((flags & 8) !== (e.flags & 8)) throw disagree('data descriptor flag');
    if (e.flags & 1) throw new FormatError(`${what} is encrypted`);
    e.dataOffset = h + 30 + nameLen + extraLen;
    const dataEnd = e.dataOffset + e.compressedSize;
    if (dataEnd > cdOffset) throw disagree('its data runs into the central directory');
    const crc = v.getUint32(h + 14, true);
    let comp: number = v.getUint32(h + 18, true);
    let size: number = v.getUint32(h + 22, true);
    if (comp === U32_MAX || size === U32_MAX) {
      const z = zip64Extra(v, h + 30 + nameLen, extraLen);
      if (z < 0 || v.getUint16(z + 2, true) < 16) throw disagree('zip64 sizes');
      size = safeU64(v, z + 4, 'zip64 size');
      comp = safeU64(v, z + 12, 'zip64 size');
    }
    // With a data descriptor (torch.save writes one) the local fields may be zero; the descriptor must agree.
    const deferred = (flags & 8) !== 0 && crc === 0 && comp === 0 && size === 0;
    if (!deferred && (crc !== e.crc || comp !== e.compressedSize || size !== e.size)) throw disagree('crc or sizes');
    expected = (flags & 8) !== 0 ? descriptorEnd(v, e, dataEnd, cdOffset, disagree) : dataEnd;
  }
  if (expected !== cdOffset)
    throw new FormatError(`corrupt zip archive (${cdOffset - expected} unlisted bytes before the central directory)`);
}

/** End of the data descriptor after an entry's data: optional signature, crc, then 4- or 8-byte sizes. */
function descriptorEnd(v: DataView, e: ZipEntry, at: number, limit: number, disagree: (f: string) => FormatError): number {
  let p = at;
  if (p + 4 <= limit && v.getUint32(p, true) === SIG_DESCRIPTOR) p += 4;
  if (
    p + 12 <= limit &&
    v.getUint32(p, true) === e.crc &&
    v.getUint32(p + 4, true) === e.compressedSize &&
    v.getUint32(p + 8, true) === e.size
  )
    return p + 12;
  if (
    p + 20 <= limit &&
    v.getUint32(p, true) === e.crc &&
    Number(v.getBigUint64(p + 4, true)) === e.compressedSize &&
    Number(v.getBigUint64(p + 12, true)) === e.size
  )
    return p + 20;
  throw disagree('data descriptor');
}

/** Offset of the zip64 extended-information field (id 1) within an extra block, or -1. */
function zip64Extra(v: DataView, start: number, len: number): number {
  let p = start;
  while (p + 4 <= start + len) {
    const id = v.getUint16(p, true);
    const n = v.getUint16(p + 2, true);
    if (p + 4 + n > start + len) return -1;
    if (id === 1) return p;
    p += 4 + n;
  }
  return -1;
}

function findEndRecord(b: Uint8Array, v: DataView): number {
  const stop = Math.max(0, b.length - 22 - 65535);
  for (let i = b.length - 22; i >= stop; i--) {
    if (v.getUint32(i, true) === SIG_END && i + 22 + v.getUint16(i + 20, true) <= b.length) return i;
  }
  return -1;
}

function safeU64(v: DataView, at: number, what: string): number {
  if (at < 0 || at + 8 > v.byteLength) throw new FormatError(`corrupt zip archive (${what} out of range)`);
  const x = v.getBigUint64(at, true);
  if (x > BigInt(v.byteLength) * BigInt(MAX_DEFLATE_RATIO))
    throw new FormatError(`corrupt zip archive (${what} ${x} is impossible for a file of ${v.byteLength} bytes)`);
  return Number(x);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Checks an entry's declared size against `maxBytes` before any work, then decompresses its first `upTo` bytes
 * (default: all of it), stopping there. A whole entry must decompress to exactly its declared size and CRC.
 */
export function inflateEntry(bytes: Uint8Array, e: ZipEntry, maxBytes: number, upTo = e.size): Uint8Array {
  const what = `zip entry ${clip(e.name)}`;
  if (e.method !== 0 && e.method !== 8) throw new FormatError(`${what} uses unsupported compression method ${e.method}`);
  if (e.size > maxBytes) throw new FormatError(`${what} is too large (${e.size} bytes, limit ${maxBytes})`);
  const want = Math.min(upTo, e.size);
  const data = bytes.subarray(e.dataOffset, e.dataOffset + e.compressedSize);
  let out: Uint8Array;
  if (e.method === 0) {
    if (e.compressedSize !== e.size)
      throw new FormatError(`${what} is stored uncompressed but declares ${e.size} bytes in ${e.compressedSize}`);
    out = data.subarray(0, want);
  } else {
    if (e.size > e.compressedSize * MAX_DEFLATE_RATIO + 1024) {
      throw new FormatError(`${what} declares ${e.size} bytes from ${e.compressedSize} compressed bytes, more than deflate can produce`);
    }
    out = inflateCapped(data, want, e.size, what);
  }
  if (want === e.size && crc32(out) !== e.crc) throw new FormatError(`${what} is corrupt (CRC mismatch)`);
  return out;
}

/** Streams `data` through inflate into a buffer of `want` bytes; stops once it is full. */
function inflateCapped(data: Uint8Array, want: number, declared: number, what: string): Uint8Array {
  const out = new Uint8Array(want);
  let n = 0;
  let over = false;
  let done = false;
  const inf = new Inflate((chunk, final) => {
    const room = want - n;
    if (chunk.length > room) {
      out.set(chunk.subarray(0, room), n);
      n = want;
      over = true;
    } else {
      out.set(chunk, n);
      n += chunk.length;
    }
    if (final) done = true;
  });
  try {
    for (let i = 0; i < data.length && !over;) {
      const next = Math.min(data.length, i + sliceFor(want - n));
      inf.push(data.subarray(i, next), next === data.length);
      i = next;
    }
    if (data.length === 0) inf.push(data, true);
  } catch (e) {
    throw new FormatError(`${what} is corrupt (${clip((e as Error).message ?? String(e), 60)})`);
  }
  if (want === declared) {
    if (over) throw new FormatError(`${what} decompresses to more than the ${declared} bytes its header declares`);
    if (!done || n !== declared) throw new FormatError(`${what}: ${n} bytes decompressed but the header says ${declared}`);
  } else if (n < want) {
    throw new FormatError(`${what}: only ${n} bytes decompressed, ${want} needed`);
  }
  return out;
}

let CRC_TABLE: Uint32Array | undefined;

export function crc32(b: Uint8Array): number {
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[i] = c >>> 0;
    }
  }
  const t = CRC_TABLE;
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = t[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Entry names in the archive, and the wanted ones decompressed whole (each and all together within the limits). */
export function readZip(
  bytes: Uint8Array,
  want: (name: string) => boolean,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): { names: string[]; files: Map<string, Uint8Array> } {
  const dir = readZipDirectory(bytes);
  const wanted = dir.names.filter(want).map((n) => dir.entries.get(n)!);
  let total = 0;
  for (const e of wanted) {
    if (e.size > limits.maxEntryBytes)
      throw new FormatError(`zip entry ${clip(e.name)} is too large (${e.size} bytes, limit ${limits.maxEntryBytes})`);
    total += e.size;
  }
  if (total > limits.maxTotalBytes) throw new FormatError(`zip archive decompresses to more than ${limits.maxTotalBytes} bytes`);
  const files = new Map<string, Uint8Array>();
  for (const e of wanted) files.set(e.name, inflateEntry(bytes, e, limits.maxEntryBytes));
  return { names: dir.names, files };
}
