/**
 * A zip writer for hostile test files: its central directory can list other names, sizes or offsets than its
 * local headers, and entries can carry precompressed bodies that declare any size (zip bombs). Used by the
 * hostile-format tests and the structure-aware fuzzer; never by the product.
 */
import { constants, crc32, deflateRawSync } from 'node:zlib';

export interface ZEntry {
  name: string;
  method: 0 | 8;
  /** The bytes as stored in the archive (compressed when method is 8). */
  body: Uint8Array;
  /** Declared uncompressed size. */
  size: number;
  crc: number;
}

export const stored = (name: string, data: Uint8Array): ZEntry => ({ name, method: 0, body: data, size: data.length, crc: crc32(data) });

let block: Uint8Array | undefined;

/** A deflate stream of `mb` MiB of zeros, ~1 KB per MiB: full-flushed blocks repeated, then an empty final block. */
export function zeroBomb(mb: number): Uint8Array {
  block ??= deflateRawSync(new Uint8Array(1 << 20), { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  const out = new Uint8Array(block.length * mb + 2);
  for (let i = 0; i < mb; i++) out.set(block, i * block.length);
  out.set([0x03, 0x00], block.length * mb);
  return out;
}

/**
 * Local headers (with their data) in `local` order; the central directory lists `central` (default: the same),
 * each pointing at the local header `at` (default: its own index) and declaring its own name, sizes and method.
 */
export function writeZip(local: ZEntry[], central: { e: ZEntry; at?: number }[] = local.map((e) => ({ e }))): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let pos = 0;
  const put = (b: Uint8Array) => {
    parts.push(b);
    pos += b.length;
  };
  for (const e of local) {
    offsets.push(pos);
    const name = enc.encode(e.name);
    const h = new DataView(new ArrayBuffer(30));
    h.setUint32(0, 0x04034b50, true);
    h.setUint16(4, 20, true);
    h.setUint16(8, e.method, true);
    h.setUint32(14, e.crc, true);
    h.setUint32(18, e.body.length, true);
    h.setUint32(22, e.size, true);
    h.setUint16(26, name.length, true);
    put(new Uint8Array(h.buffer));
    put(name);
    put(e.body);
  }
  const cdStart = pos;
  central.forEach(({ e, at }, i) => {
    const name = enc.encode(e.name);
    const h = new DataView(new ArrayBuffer(46));
    h.setUint32(0, 0x02014b50, true);
    h.setUint16(4, 20, true);
    h.setUint16(6, 20, true);
    h.setUint16(10, e.method, true);
    h.setUint32(16, e.crc, true);
    h.setUint32(20, e.body.length, true);
    h.setUint32(24, e.size, true);
    h.setUint16(28, name.length, true);
    h.setUint32(42, offsets[at ?? i] ?? 0, true);
    put(new Uint8Array(h.buffer));
    put(name);
  });
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, central.length, true);
  end.setUint16(10, central.length, true);
  end.setUint32(12, pos - cdStart, true);
  end.setUint32(16, cdStart, true);
  put(new Uint8Array(end.buffer));
  const out = new Uint8Array(pos);
  let p = 0;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}
