/**
 * Reads selected entries of a zip archive (PyTorch .pt, Keras .keras) with fflate's streaming unzip, bounding the
 * decompressed size of each entry and of the whole read so a zip bomb cannot exhaust memory.
 */
import { Unzip, UnzipInflate } from 'fflate';
import { clip, FormatError } from './errors';

export interface ZipLimits {
  maxEntryBytes: number;
  maxTotalBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntryBytes: 1024 * 1024 * 1024, maxTotalBytes: 2 * 1024 * 1024 * 1024 };

/** Input is fed in slices so a deflated entry's output arrives (and is counted) incrementally. */
const SLICE = 64 * 1024;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Entry names in the archive, and the wanted ones decompressed. */
export function readZip(
  bytes: Uint8Array,
  want: (name: string) => boolean,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): { names: string[]; files: Map<string, Uint8Array> } {
  if (!isZip(bytes)) throw new FormatError('not a zip archive');
  if (!hasEndRecord(bytes)) throw new FormatError('truncated zip archive (no end-of-central-directory record)');
  const files = new Map<string, Uint8Array>();
  const names: string[] = [];
  let total = 0;
  let failure: Error | undefined;
  const fail = (msg: string) => {
    failure ??= new FormatError(msg);
  };
  const uz = new Unzip((file) => {
    if (names.length >= 100_000) return fail('zip archive has too many entries');
    names.push(file.name);
    if (!want(file.name) || failure) return;
    if (files.has(file.name)) return fail(`zip archive has the entry ${clip(file.name)} twice`);
    if (file.compression !== 0 && file.compression !== 8) return fail(`zip entry ${clip(file.name)} uses unsupported compression method ${file.compression}`);
    if (file.originalSize !== undefined && file.originalSize > limits.maxEntryBytes) {
      return fail(`zip entry ${clip(file.name)} is too large (${file.originalSize} bytes, limit ${limits.maxEntryBytes})`);
    }
    const chunks: Uint8Array[] = [];
    let n = 0;
    file.ondata = (err, chunk, final) => {
      if (failure) return;
      if (err) return fail(`zip entry ${clip(file.name)} is corrupt (${err.message})`);
      n += chunk.length;
      total += chunk.length;
      if (n > limits.maxEntryBytes) {
        file.terminate();
        return fail(`zip entry ${clip(file.name)} decompresses to more than ${limits.maxEntryBytes} bytes`);
      }
      if (total > limits.maxTotalBytes) {
        file.terminate();
        return fail(`zip archive decompresses to more than ${limits.maxTotalBytes} bytes`);
      }
      chunks.push(chunk);
      if (final) {
        if (file.originalSize !== undefined && file.originalSize !== n && file.compression === 8) {
          return fail(`zip entry ${clip(file.name)}: ${n} bytes decompressed but the header says ${file.originalSize}`);
        }
        files.set(file.name, concat(chunks, n));
      }
    };
    file.start();
  });
  uz.register(UnzipInflate);
  try {
    for (let i = 0; i < bytes.length && !failure; i += SLICE) uz.push(bytes.subarray(i, i + SLICE), i + SLICE >= bytes.length);
  } catch (e) {
    fail(`corrupt zip archive (${(e as Error).message})`);
  }
  if (failure) throw failure;
  return { names, files };
}

/** The end-of-central-directory record sits in the last 22 + 65535 bytes; a truncated archive lacks it. */
function hasEndRecord(b: Uint8Array): boolean {
  const stop = Math.max(0, b.length - 22 - 65535);
  for (let i = b.length - 22; i >= stop; i--) {
    if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 0x05 && b[i + 3] === 0x06) return true;
  }
  return false;
}

function concat(chunks: Uint8Array[], n: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(n);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}
