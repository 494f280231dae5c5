/**
 * Fresh large arrays (core/util/fresh-memory) backed by transparent huge pages through the native addon's
 * adviseHugePages: writing 64 MB of advised memory takes a small fraction of the 16 384 page faults 4 KiB pages
 * cost, where the kernel offers huge pages (THP "always" or "madvise"); the advice changes no value.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fastEngineStatus, nativeKernels } from '../../core/engine/fast';
import { freshF32, freshF64, setHugePageAdvisor } from '../../core/util/fresh-memory';

function thpMode(): string {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unavailable';
  }
}

function faultsWriting(a: Float32Array | Float64Array): number {
  const f0 = process.resourceUsage().minorPageFault;
  a.fill(1.5);
  return process.resourceUsage().minorPageFault - f0;
}

const addon = nativeKernels();
const thp = thpMode();
const skip = !addon
  ? `native engine unavailable: ${fastEngineStatus().reason}`
  : thp === 'always' || thp === 'madvise'
    ? false
    : `THP is ${thp}`;

test('adviseHugePages: fresh 64 MB arrays fault a few times per 2 MiB, not once per 4 KiB; values unchanged', { skip }, () => {
  const k = addon!;
  setHugePageAdvisor((a) => k.adviseHugePages(a));
  const bytes = 64 << 20;
  const a32 = freshF32(bytes / 4);
  const a64 = freshF64(bytes / 8);
  const faults = [faultsWriting(a32), faultsWriting(a64)];
  for (const f of faults) assert.ok(f < 16384 / 8, `${f} page faults writing 64 MB (4 KiB pages: 16384)`);
  assert.ok(a32.every((v) => v === 1.5) && a64.every((v) => v === 1.5));
  assert.equal(a32.length, bytes / 4);
  // The advice covers only whole 2 MiB pages inside the buffer, including one viewed at an offset.
  const view = new Float32Array(a32.buffer, 4096, 1000);
  assert.equal(k.adviseHugePages(view), true);
  assert.equal(k.adviseHugePages(new Float32Array(1000)), false, 'no whole 2 MiB page: nothing advised');
  assert.throws(() => k.adviseHugePages([1, 2] as unknown as Float32Array), /typed array/);
  // Without the advice (the same allocation), the kernel maps 4 KiB pages one by one under THP "madvise".
  setHugePageAdvisor(null);
  if (thp === 'madvise') assert.ok(faultsWriting(freshF32(bytes / 4)) > 16384 / 2, 'unadvised memory faults per 4 KiB page');
  setHugePageAdvisor((a) => k.adviseHugePages(a));
});
