/**
 * Recognises our model files by reading only the safetensors header (8-byte length + JSON), never the
 * tensor data, so the extension's tree can scan a workspace full of large foreign .safetensors files cheaply
 * and the diagnostics worker can tell our files (which may use custom cells) from foreign ones.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { validateArchitecture, type Architecture } from './architecture';
import { MODEL_FORMAT } from './model-file';

/** Our headers are a few KB; anything far larger is not one of ours and is not worth reading. */
export const MAX_SNIFF_HEADER_BYTES = 1 << 20;

export type SniffResult =
  | { kind: 'model'; architecture: Architecture; version: string; paramCount: number }
  /** `ours`: the header names our format, but its architecture is missing or invalid (a damaged model of ours). */
  | { kind: 'other'; reason: string; ours?: true };

/** Classifies the first bytes of a file (the 8-byte length plus at least that many header bytes). */
export function sniffHeaderBytes(bytes: Uint8Array): SniffResult {
  if (bytes.length < 8) return { kind: 'other', reason: 'shorter than 8 bytes' };
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_SNIFF_HEADER_BYTES)) return { kind: 'other', reason: `header of ${n64} bytes is too large for a model of ours` };
  const n = Number(n64);
  if (bytes.length < 8 + n) return { kind: 'other', reason: 'truncated header' };
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch {
    return { kind: 'other', reason: 'header is not UTF-8 JSON' };
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return { kind: 'other', reason: 'header is not an object' };
  const meta = (header as Record<string, unknown>).__metadata__;
  if (typeof meta !== 'object' || meta === null) return { kind: 'other', reason: 'no metadata' };
  const m = meta as Record<string, unknown>;
  if (m.format !== MODEL_FORMAT) return { kind: 'other', reason: `format is not ${MODEL_FORMAT}` };
  if (typeof m.architecture !== 'string') return { kind: 'other', reason: 'no architecture metadata', ours: true };
  let architecture: Architecture;
  try {
    architecture = validateArchitecture(JSON.parse(m.architecture));
  } catch (e) {
    return { kind: 'other', reason: (e as Error).message, ours: true };
  }
  let paramCount = 0;
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__' || typeof entry !== 'object' || entry === null) continue;
    const shape = (entry as { shape?: unknown }).shape;
    if (Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0))
      paramCount += (shape as number[]).reduce((a, b) => a * b, 1);
  }
  return { kind: 'model', architecture, version: typeof m.version === 'string' ? m.version : '?', paramCount };
}

/** Reads at most 8 + MAX_SNIFF_HEADER_BYTES bytes of `path`. Never throws for unreadable files. */
export function sniffModelFile(path: string): SniffResult {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return { kind: 'other', reason: `cannot open: ${(e as Error).message}` };
  }
  try {
    const lenBuf = new Uint8Array(8);
    if (readSync(fd, lenBuf, 0, 8, 0) < 8) return { kind: 'other', reason: 'shorter than 8 bytes' };
    const n64 = new DataView(lenBuf.buffer).getBigUint64(0, true);
    if (n64 > BigInt(MAX_SNIFF_HEADER_BYTES)) return sniffHeaderBytes(lenBuf);
    const n = Number(n64);
    const buf = new Uint8Array(8 + n);
    buf.set(lenBuf);
    let got = 0;
    while (got < n) {
      const r = readSync(fd, buf, 8 + got, n - got, 8 + got);
      if (r <= 0) break;
      got += r;
    }
    return sniffHeaderBytes(buf.subarray(0, 8 + got));
  } catch (e) {
    return { kind: 'other', reason: `cannot read: ${(e as Error).message}` };
  } finally {
    closeSync(fd);
  }
}
