/**
 * The checksum of a checkpoint file: metadata `checksum` = "sha256:" + the SHA-256 of the whole file as
 * written with 64 zeros in place of the digest. Covering every byte (header, config, counters, tensors)
 * means a flipped bit anywhere is caught, not only in the tensor data. Files written before checksums
 * existed have no such entry and are accepted as they are.
 */
import { createHash } from 'node:crypto';

export const CHECKSUM_KEY = 'checksum';
const PREFIX = 'sha256:';
const HEX = 64;
/** Metadata value to write; sealChecksum then fills in the digest. */
export const CHECKSUM_PLACEHOLDER = PREFIX + '0'.repeat(HEX);

/** Byte offset of the digest's hex digits in a safetensors file, or -1 when its header has no checksum entry. */
function digestOffset(bytes: Uint8Array): number {
  if (bytes.length < 8) return -1;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) return -1;
  // latin1 keeps one character per byte, so string offsets are byte offsets.
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + 8, Number(n)).toString('latin1');
  // Metadata values are JSON strings: an unescaped quote before the key can only come from the key itself.
  const needle = `"${CHECKSUM_KEY}":"${PREFIX}`;
  const at = header.indexOf(needle);
  if (at < 0 || header.indexOf(needle, at + 1) >= 0) return -1;
  return 8 + at + needle.length;
}

function digest(bytes: Uint8Array, at: number): string {
  return createHash('sha256')
    .update(bytes.subarray(0, at))
    .update('0'.repeat(HEX))
    .update(bytes.subarray(at + HEX))
    .digest('hex');
}

/** Writes the digest over the placeholder of a file serialised with CHECKSUM_PLACEHOLDER (in place). */
export function sealChecksum(bytes: Uint8Array): Uint8Array {
  const at = digestOffset(bytes);
  if (at < 0) throw new Error('internal: checkpoint has no checksum placeholder');
  bytes.set(Buffer.from(digest(bytes, at), 'latin1'), at);
  return bytes;
}

/**
 * 'verified' when the file carries a checksum that matches, 'absent' when its header has none (an older
 * version wrote it; `metadata` then must not claim one either). Throws on a mismatch.
 */
export function verifyChecksum(bytes: Uint8Array): 'verified' | 'absent' {
  const at = digestOffset(bytes);
  if (at < 0) return 'absent';
  const stored = Buffer.from(bytes.subarray(at, at + HEX)).toString('latin1');
  if (stored !== digest(bytes, at)) throw new Error('checksum mismatch: the file is corrupt or was modified after it was written');
  return 'verified';
}
