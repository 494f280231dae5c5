/** Custom cell files without running them: recognising paths, reading and hashing, and the error type. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';

/** File types a custom cell can be written in (TypeScript is transpiled; JavaScript may be ESM or CommonJS). */
export const CELL_EXTENSIONS: readonly string[] = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

/** Whether `v` (a --cell value) names a cell file rather than a built-in cell kind. */
export function isCellPath(v: string): boolean {
  return CELL_EXTENSIONS.includes(extname(v).toLowerCase());
}

/** An error in (or about) a user's cell file; `line`/`column` are 1-based positions in the user's source. */
export class CustomCellError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
    readonly column?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CustomCellError';
  }
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface CellSource {
  /** Absolute path. */
  file: string;
  source: string;
  sha256: string;
  /** The bytes that were hashed (what runs is decoded from these, never re-read). */
  bytes: Buffer;
}

/** Reads a cell file; throws CustomCellError for a wrong extension or an unreadable file. */
export function readCellSource(path: string): CellSource {
  const file = resolve(path);
  if (!isCellPath(file)) throw new CustomCellError(`${file}: a custom cell must be a ${CELL_EXTENSIONS.join(', ')} file`, file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new CustomCellError(`cannot read custom cell ${file}: ${(e as Error).message}`, file, undefined, undefined, { cause: e });
  }
  return { file, source: bytes.toString('utf8'), sha256: sha256Hex(bytes), bytes };
}
