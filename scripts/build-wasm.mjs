// Compiles the WebAssembly engine from the native kernel sources (native/kernels.cpp with RNN_ISA_WASM, plus
// native/wasm-driver.cpp) with clang for wasm32 + SIMD128, freestanding, into dist/wasm/rnn_kernels.wasm.
// Needs clang and lld (wasm-ld): bash scripts/wasm-setup.sh installs them. Without them it only says so: the
// wasm engine is then unavailable and `fast` falls back to the reference engine where the native addon is
// missing too. Skips work when the module is newer than its sources.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

// -mbulk-memory turns memcpy/memset into memory.copy/fill (no libc); -ffp-contract is moot (wasm has no FMA).
const FLAGS = [
  '--target=wasm32',
  '-O3',
  '-std=gnu++17',
  '-msimd128',
  '-mbulk-memory',
  '-mnontrapping-fptoint',
  '-fno-exceptions',
  '-fno-rtti',
  '-fno-math-errno',
  '-DRNN_ISA_WASM',
  '-Wall',
  '-Wextra',
  '-Wno-unused-parameter',
];
const LINK = ['--target=wasm32', '-nostdlib', '-Wl,--no-entry', '-Wl,-z,stack-size=1048576', '-Wl,--strip-all'];

function run(cmd, args) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stdout.on('data', (d) => (err += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', (e) => resolve({ ok: false, err: String(e) }));
    p.on('close', (code) => resolve({ ok: code === 0, err }));
  });
}

/** Builds dist/wasm/rnn_kernels.wasm under `root`. Returns { ok, path } or { ok: false, reason }; never throws. */
export async function buildWasm(root = join(here, '..'), { force = false } = {}) {
  const warn = (reason) => {
    console.warn(
      `[build-wasm] ${reason}; the wasm engine is unavailable (install the toolchain with: bash scripts/wasm-setup.sh, then npm run build).`,
    );
    return { ok: false, reason };
  };
  try {
    if (process.env.RNN_SKIP_WASM === '1') return { ok: false, reason: 'skipped (RNN_SKIP_WASM=1)' };
    const src = join(root, 'native');
    const sources = ['kernels.cpp', 'kernels.h', 'wasm-driver.cpp'].map((f) => join(src, f));
    if (!sources.every(existsSync)) return warn('kernel sources missing');
    const outDir = join(root, 'dist', 'wasm');
    const out = join(outDir, 'rnn_kernels.wasm');
    const newest = Math.max(...[...sources, fileURLToPath(import.meta.url)].map((p) => statSync(p).mtimeMs));
    if (!force && existsSync(out) && statSync(out).mtimeMs > newest) return { ok: true, path: out, upToDate: true };
    // A module older than its sources must not outlive a failed build.
    const stale = (reason) => {
      rmSync(out, { force: true });
      return warn(reason);
    };
    const clang = process.env.RNN_CLANG || 'clang++';
    if (spawnSync(clang, ['--version'], { stdio: 'ignore' }).status !== 0) return stale(`no clang (${clang})`);
    const objDir = join(outDir, 'obj');
    mkdirSync(objDir, { recursive: true });
    const jobs = ['kernels.cpp', 'wasm-driver.cpp'].map((f) => ({ obj: join(objDir, f.replace('.cpp', '.o')), src: join(src, f) }));
    const results = await Promise.all(jobs.map((j) => run(clang, [...FLAGS, '-c', j.src, '-o', j.obj])));
    const failed = results.findIndex((r) => !r.ok);
    if (failed >= 0) return stale(`clang cannot compile for wasm32 (${jobs[failed].src}):\n${results[failed].err.trim()}`);
    const tmp = `${out}.${process.pid}.tmp`;
    const link = await run(clang, [...LINK, '-o', tmp, ...jobs.map((j) => j.obj)]);
    if (!link.ok) {
      rmSync(tmp, { force: true });
      return stale(`linking with wasm-ld failed (is lld installed?):\n${link.err.trim()}`);
    }
    renameSync(tmp, out);
    const warnings = results.map((r) => r.err.trim()).filter(Boolean);
    if (warnings.length) console.warn(`[build-wasm] compiler warnings:\n${warnings.join('\n')}`);
    return { ok: true, path: out };
  } catch (e) {
    return warn(`unexpected error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// Run directly: node scripts/build-wasm.mjs [--force]
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await buildWasm(join(here, '..'), { force: process.argv.includes('--force') });
  if (r.ok) console.log(`[build-wasm] ${r.upToDate ? 'up to date' : 'built'}: ${r.path}`);
}
