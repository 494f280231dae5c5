import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/**
 * Writes to a hidden temporary sibling, flushes it to disk and renames it over `path`, so readers never
 * see a half-written file and a crash leaves the previous version intact. The temporary file is removed
 * when anything fails. The temporary file is created exclusively ('wx': never through a link or over a
 * file planted at its name), and the rename replaces a symbolic link at `path` itself, never its target;
 * callers that must not replace a link at all check first (core/formats/sidecar.ts).
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let created = false;
  try {
    const fd = openSync(tmp, 'wx');
    created = true;
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      if (created) unlinkSync(tmp);
    } catch {
      // already renamed or removed
    }
    throw err;
  }
}
