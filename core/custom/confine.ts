/**
 * Where a recorded custom cell may be. A model or run file names its cell's `source`, and that name comes from
 * whoever shipped the file: it must stay inside the file's own folder (no absolute path, no "..", no symbolic
 * link leading out), so a downloaded model cannot point at some script elsewhere on the disk. A cell the user
 * names explicitly (CLI --cell, the extension's file picker) is not confined; training copies it into the run
 * folder, so the run and its models record a name inside their folder.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, posix, relative, resolve, sep, win32 } from 'node:path';
import type { CustomCellRef } from '../cells/types';
import { writeFileAtomic } from '../util/fs-atomic';
import { CustomCellError, readCellSource, type CellSource } from './source';

const clip = (s: string) => (s.length > 80 ? `${s.slice(0, 80)}…` : s);

/** Whether `file` (a real path) lies strictly inside the real folder `dir`. */
function inside(dir: string, file: string): boolean {
  const rel = relative(dir, file);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * The real path of a recorded cell's file inside `baseDir` (the folder of the model or run that records it).
 * Throws a one-line CustomCellError, without reading the file, when the source leaves that folder or is missing.
 */
export function confinedCellPath(ref: Pick<CustomCellRef, 'name' | 'source'>, baseDir: string): string {
  const s = ref.source;
  const refuse = (why: string): never => {
    throw new CustomCellError(
      `custom cell "${ref.name}": refused source "${clip(s)}" (${why}); a recorded cell must be a file inside ${resolve(baseDir)}, or be given explicitly with --cell FILE`,
      resolve(baseDir),
    );
  };
  if (posix.isAbsolute(s) || win32.isAbsolute(s) || /^[A-Za-z]:/.test(s)) refuse('an absolute path');
  const parts = s.split(/[\\/]/);
  if (parts.includes('..')) refuse('it leads out of the folder with ".."');
  const path = resolve(baseDir, ...parts);
  if (!existsSync(path)) {
    throw new CustomCellError(
      `custom cell "${ref.name}" not found: ${path} (recorded as "${clip(s)}" relative to ${baseDir}); give its file with --cell FILE`,
      path,
    );
  }
  const real = realpathSync(path);
  if (!statSync(real).isFile()) refuse('not a regular file');
  if (!inside(realpathSync(baseDir), real)) refuse('a symbolic link to outside the folder');
  return real;
}

/**
 * Reads a recorded cell from inside `baseDir` and checks its SHA-256 against the record before anything of
 * it is transpiled or run. Returns the bytes that were checked.
 */
export function readRecordedCell(ref: CustomCellRef, baseDir: string): CellSource {
  const src = readCellSource(confinedCellPath(ref, baseDir));
  if (src.sha256 !== ref.sha256) {
    throw new CustomCellError(
      `${src.file} has changed since this model was saved (sha256 ${src.sha256.slice(0, 12)}…, recorded ${ref.sha256.slice(0, 12)}…): restore it, or pass it explicitly with --cell to use the new version`,
      src.file,
    );
  }
  return src;
}

/**
 * Keeps the cell file `file` (whose checked hash is `sha256`) with the run in `dir`: a file already inside is
 * recorded by its relative name, any other is copied into `dir` under its base name. Returns the source to
 * record ('/'-separated, relative to `dir`).
 */
export function keepCellInFolder(file: string, sha256: string, dir: string): string {
  const src = readCellSource(file);
  if (src.sha256 !== sha256) {
    throw new CustomCellError(
      `${src.file} changed after it was checked (sha256 ${src.sha256.slice(0, 12)}…, checked ${sha256.slice(0, 12)}…); start again`,
      src.file,
    );
  }
  const realDir = realpathSync(dir);
  const real = realpathSync(src.file);
  if (inside(realDir, real)) return relative(realDir, real).split(sep).join('/');
  const name = basename(src.file);
  writeFileAtomic(join(dir, name), src.bytes);
  return name;
}
