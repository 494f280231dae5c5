/**
 * The native engine: the float32 kernels of native/ as the N-API addon dist/native/rnn_kernels.node (g++,
 * x86-64 AVX-512 / AVX2 / baseline, threaded). The file keeps its historical name; `fast` now names the choice
 * of the best available engine (core/engine/index.ts). RNN_MEMORY_HIDE_NATIVE=1 hides the addon, as on a machine
 * without it (tests and the bench measure the fallback so).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { referenceCell } from '../cells/index';
import type { CellDef, CellKind } from '../cells/types';
import { setHugePageAdvisor } from '../util/fresh-memory';
import { setGramKernel } from '../util/gram';
import {
  KIND_CODE,
  makeKernelCell,
  releaseFloat32Memory,
  type BackwardBuffers,
  type LayerBuffers,
  type LayerKernels,
} from './float32-cells';

export type { BackwardBuffers, LayerBuffers };
export { releaseForward } from './float32-cells';

/** The addon's exports (native/addon.cpp). */
export interface NativeKernels extends LayerKernels {
  info(): { abi: number; isa: string; threads: number; supportedIsas: string[] };
  setThreads(n: number): void;
  setIsa(name: string): boolean;
  releaseScratch(): void;
  gemm(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array): void;
  tanh(x: Float32Array, y: Float32Array): void;
  sigmoid(x: Float32Array, y: Float32Array): void;
  /** The upper triangle of XᵀX (X [n, d] row-major, float64) into A [d, d]; single thread. */
  gram(n: number, d: number, X: Float64Array, A: Float64Array): void;
  /** Backs the array's whole 2 MiB pages with transparent huge pages (Linux); whether the advice was taken. */
  adviseHugePages(a: Float32Array | Float64Array): boolean;
}

export interface FastEngineStatus {
  available: boolean;
  /** Why the engine is unavailable, or which binary was loaded. */
  reason?: string;
  path?: string;
  isa?: string;
  threads?: number;
}

/** native/addon.cpp kAbi. */
const ADDON_ABI = 6;

let loaded: { addon: NativeKernels | null; status: FastEngineStatus } | undefined;

function candidatePaths(): string[] {
  // Bundled: dist/*.js next to dist/native; from sources (tsx): core/engine/../../dist/native.
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const rel = join('native', 'rnn_kernels.node');
  return [
    process.env.RNN_FAST_NATIVE,
    join(here, rel),
    join(here, '..', 'dist', rel),
    join(here, '..', '..', 'dist', rel),
    join(process.cwd(), 'dist', rel),
  ].filter((p): p is string => typeof p === 'string' && p.length > 0);
}

function load(): { addon: NativeKernels | null; status: FastEngineStatus } {
  if (loaded) return loaded;
  if (process.env.RNN_FAST_DISABLE === '1' || process.env.RNN_MEMORY_HIDE_NATIVE === '1') {
    const v = process.env.RNN_MEMORY_HIDE_NATIVE === '1' ? 'RNN_MEMORY_HIDE_NATIVE=1' : 'RNN_FAST_DISABLE=1';
    loaded = { addon: null, status: { available: false, reason: `native addon hidden by ${v}` } };
    return loaded;
  }
  const tried: string[] = [];
  for (const path of candidatePaths()) {
    if (!existsSync(path)) continue;
    try {
      const mod = { exports: {} as NativeKernels };
      process.dlopen(mod, path);
      const addon = mod.exports;
      if (typeof addon.forward !== 'function' || typeof addon.backward !== 'function') throw new Error('not the rnn_kernels addon');
      const info = addon.info();
      if (info.abi !== ADDON_ABI) throw new Error(`interface version ${info.abi}, expected ${ADDON_ABI} (rebuild with npm run build)`);
      loaded = { addon, status: { available: true, path, isa: info.isa, threads: info.threads } };
      // RNN_MEMORY_HUGE_PAGES=0 keeps 4 KiB pages (the bench measures the difference).
      if (process.env.RNN_MEMORY_HUGE_PAGES !== '0') setHugePageAdvisor((a) => addon.adviseHugePages(a));
      setGramKernel((n, d, X, A) => addon.gram(n, d, X, A));
      return loaded;
    } catch (e) {
      tried.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const reason = tried.length
    ? `native addon failed to load (${tried.join('; ')})`
    : 'native addon dist/native/rnn_kernels.node not built (npm run build needs g++ and Node-API headers)';
  loaded = { addon: null, status: { available: false, reason } };
  return loaded;
}

export function fastEngineStatus(): FastEngineStatus {
  return { ...load().status };
}

/** The loaded addon, or null (for tests and the benchmark). */
export function nativeKernels(): NativeKernels | null {
  return load().addon;
}

const cells = new Map<CellKind, CellDef>();

/** The native CellDef for `kind`, or null when the addon is unavailable or lacks that cell. */
export function fastCell(kind: CellKind): CellDef | null {
  const { addon } = load();
  if (!addon || KIND_CODE[kind] === undefined) return null;
  let def = cells.get(kind);
  if (!def) {
    referenceCell(kind); // throws on an unknown kind
    def = makeKernelCell(kind, addon, 'native');
    cells.set(kind, def);
  }
  return def;
}

/** Frees the memory the float32 engines keep between calls (buffer pool, temporaries, native scratch). */
export function releaseFastEngineMemory(): void {
  releaseFloat32Memory();
  load().addon?.releaseScratch();
}
