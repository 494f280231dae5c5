import { renameSync, writeFileSync } from 'node:fs';

/** Writes to a temporary sibling and renames, so readers never see a half-written file. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
