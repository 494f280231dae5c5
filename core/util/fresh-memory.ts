/**
 * Large arrays the caller overwrites entirely: allocated without zero-filling, and, where an engine can ask
 * the OS for it (the native addon on Linux), backed by transparent huge pages. A fresh array's memory is
 * mapped page by page on first write; at 4 KiB pages a diagnose pass of the 4 × 100 nBRC at T = 1000 took
 * 100–240 thousand page faults (~11 µs each on the VMs measured), more time than its kernels.
 */

type Advisor = (a: Float32Array | Float64Array) => boolean;
let advisor: Advisor | null = null;

/** Installed by an engine that can advise the OS (core/engine/fast.ts); null removes it. */
export function setHugePageAdvisor(fn: Advisor | null): void {
  advisor = fn;
}

/** Below this many bytes the advice cannot cover a whole 2 MiB page: not asked. */
const ADVISE_MIN = 4 << 20;

function advised<A extends Float32Array | Float64Array>(a: A): A {
  if (advisor && a.byteLength >= ADVISE_MIN) advisor(a);
  return a;
}

/** n float32 values with arbitrary contents. */
export function freshF32(n: number): Float32Array {
  return advised(new Float32Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n));
}

/** n float64 values with arbitrary contents. */
export function freshF64(n: number): Float64Array {
  return advised(new Float64Array(Buffer.allocUnsafeSlow(n * 8).buffer, 0, n));
}
