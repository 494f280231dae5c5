/**
 * Remembered answers next to a model: `<model file>.rnnmemory.json` = {"version": 1, "answers": {key: value}}.
 * The sidecar ships with model files from anywhere, so it is never followed through a symbolic link (reading
 * or writing), never written unless a caller asks (CLI --remember-answers), and its content never appears in
 * a message.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { writeFileAtomic } from '../util/fs-atomic';
import type { ArchitectureAnswers } from './errors';

/** A sidecar holds a few short answers; anything larger is not one of ours. */
const MAX_SIDECAR_BYTES = 64 * 1024;

export function sidecarPath(modelPath: string): string {
  return `${modelPath}.rnnmemory.json`;
}

/** What is at `p` without following a link: absent, a regular file, or something we will not touch. */
function entryKind(p: string): 'none' | 'file' | 'symlink' | 'other' {
  try {
    const st = lstatSync(p);
    return st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw e;
  }
}

const NOT_REGULAR = { symlink: 'it is a symbolic link', other: 'it is not a regular file' } as const;

/** Reads a regular file without following a final symbolic link (O_NOFOLLOW where the system has it). */
function readNoFollow(p: string): string {
  const fd = openSync(p, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(NOT_REGULAR.other);
    if (st.size > MAX_SIDECAR_BYTES) throw new Error(`it is larger than ${MAX_SIDECAR_BYTES / 1024} KB`);
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The stored answers, or {} when there is no usable sidecar (a broken one is reported, not fatal). */
export function readSidecar(modelPath: string, warnings: string[]): ArchitectureAnswers {
  const p = sidecarPath(modelPath);
  try {
    const kind = entryKind(p);
    if (kind === 'none') return {};
    if (kind !== 'file') throw new Error(NOT_REGULAR[kind]);
    let j: { answers?: unknown };
    try {
      j = JSON.parse(readNoFollow(p).replace(/^\uFEFF/, '')) as { answers?: unknown };
    } catch (e) {
      // JSON.parse quotes the text it choked on: say only that it is not JSON.
      throw e instanceof SyntaxError ? new Error('not valid JSON') : e;
    }
    const a = j?.answers;
    if (typeof a !== 'object' || a === null || Array.isArray(a)) throw new Error('no "answers" object');
    const out: ArchitectureAnswers = {};
    for (const [k, v] of Object.entries(a)) if (typeof v === 'string') out[k] = v;
    return out;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    warnings.push(`ignoring ${p}: ${code === 'ELOOP' ? NOT_REGULAR.symlink : code ? `cannot read it (${code})` : (e as Error).message}`);
    return {};
  }
}

/**
 * Writes the answers (atomically: a temporary file renamed over the sidecar). Refuses when the sidecar path
 * is a symbolic link or anything but a regular file, rather than replace or follow it.
 */
export function writeSidecar(modelPath: string, answers: ArchitectureAnswers): void {
  const p = sidecarPath(modelPath);
  const kind = entryKind(p);
  if (kind === 'symlink' || kind === 'other') throw new Error(`refusing to write ${p}: ${NOT_REGULAR[kind]}`);
  const body = { version: 1, note: 'RNN Memory Lens: answers about this model that its file does not record', answers };
  writeFileAtomic(p, JSON.stringify(body, null, 2) + '\n');
}
