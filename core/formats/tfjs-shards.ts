/**
 * Reads TF.js weight shards from the model's folder without trusting model.json: every path must resolve
 * (symlinks followed) to a regular file inside the folder, each file is read at most once (also under another
 * name: hard or symbolic links), and a file larger than the bytes the manifest still needs is refused from its
 * size before it is read.
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { clip, FormatError } from './errors';
import type { ShardReader } from './tfjs';

export function folderShardReader(folder: string): ShardReader {
  let root: string;
  try {
    root = realpathSync(folder);
  } catch (e) {
    throw new FormatError(`cannot resolve the model's folder (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const seen = new Map<string, string>();
  return (path, maxBytes) => {
    const name = JSON.stringify(clip(path, 60));
    let real: string;
    try {
      real = realpathSync(`${root}${sep}${path}`);
    } catch (e) {
      throw new FormatError(
        `weight shard ${name} cannot be opened (${(e as NodeJS.ErrnoException).code ?? 'error'}): missing next to model.json?`,
      );
    }
    if (!real.startsWith(root + sep))
      throw new FormatError(
        `weight shard ${name} resolves outside the model's folder (a symbolic link?); shards must be files in that folder`,
      );
    let fd: number;
    try {
      fd = openSync(real, 'r');
    } catch (e) {
      throw new FormatError(`weight shard ${name} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new FormatError(`weight shard ${name} is not a regular file`);
      const id = `${st.dev}:${st.ino}`;
      const before = seen.get(id);
      if (before !== undefined)
        throw new FormatError(`weight shard ${name} is the same file as ${JSON.stringify(clip(before, 60))}: each shard must be read once`);
      seen.set(id, path);
      if (st.size > maxBytes)
        throw new FormatError(`weight shard ${name} has ${st.size} bytes but the manifest needs only ${maxBytes} more`);
      const buf = new Uint8Array(st.size);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, got);
        if (n <= 0) break;
        got += n;
      }
      return buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  };
}
