// Compiles the fast engine's N-API addon (native/*.cpp) with g++ into dist/native/rnn_kernels.node.
// The kernels are compiled once per instruction set (AVX-512, AVX2+FMA, baseline) and chosen at run
// time, so the binary runs on any x86-64 CPU (no -march=native). A failed build only warns: the
// engine then falls back to the reference cells. Skips work when the addon is newer than its sources.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

const ISAS = [
  {
    name: 'avx512',
    flags: [
      '-DRNN_ISA_AVX512',
      '-mavx512f',
      '-mavx512vl',
      '-mavx512bw',
      '-mavx512dq',
      '-mavx2',
      '-mfma',
      '-mprefer-vector-width=512',
      '-Wno-maybe-uninitialized',
    ],
  }, // GCC 12 false positive on _mm512_undefined_ps (bug 105593)
  { name: 'avx2', flags: ['-DRNN_ISA_AVX2', '-mavx2', '-mfma'] },
  { name: 'base', flags: [] },
];

const COMMON = [
  '-O3',
  '-std=gnu++17',
  '-fPIC',
  '-fvisibility=hidden',
  '-fno-math-errno',
  '-ffp-contract=fast',
  '-pthread',
  '-Wall',
  '-Wextra',
  '-Wno-unused-parameter',
];

function findNodeHeaders() {
  const candidates = [
    process.env.NODE_INCLUDE_DIR,
    join(dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  return candidates.find((d) => existsSync(join(d, 'node_api.h')));
}

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

function newest(paths) {
  return Math.max(...paths.map((p) => statSync(p).mtimeMs));
}

/**
 * Builds dist/native/rnn_kernels.node under `root`. Returns { ok, path } or { ok: false, reason }.
 * Never throws: the fast engine is optional.
 */
export async function buildNative(root = join(here, '..'), { force = false } = {}) {
  const warn = (reason) => {
    console.warn(`[build-native] warning: ${reason}; the fast engine is unavailable and training uses the reference engine.`);
    return { ok: false, reason };
  };
  try {
    if (process.env.RNN_SKIP_NATIVE === '1') return { ok: false, reason: 'skipped (RNN_SKIP_NATIVE=1)' };
    const src = join(root, 'native');
    const sources = ['addon.cpp', 'kernels.cpp', 'kernels.h'].map((f) => join(src, f));
    if (!sources.every(existsSync)) return warn('native sources missing');
    const outDir = join(root, 'dist', 'native');
    const out = join(outDir, 'rnn_kernels.node');
    if (!force && existsSync(out) && statSync(out).mtimeMs > newest([...sources, fileURLToPath(import.meta.url)])) {
      return { ok: true, path: out, upToDate: true };
    }
    // From here on a rebuild is due: a binary older than its sources must not outlive a failed build.
    const stale = (reason) => {
      rmSync(out, { force: true });
      return warn(reason);
    };
    const cxx = process.env.CXX || 'g++';
    if (spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status !== 0) return stale(`no C++ compiler (${cxx})`);
    const headers = findNodeHeaders();
    if (!headers) return stale('Node-API headers (node_api.h) not found; set NODE_INCLUDE_DIR');
    const objDir = join(outDir, 'obj');
    mkdirSync(objDir, { recursive: true });

    const x86 = process.arch === 'x64';
    const isas = x86 ? ISAS : ISAS.filter((i) => i.name === 'base');
    const jobs = isas.map((isa) => ({
      obj: join(objDir, `kernels_${isa.name}.o`),
      args: [...COMMON, ...isa.flags, '-c', join(src, 'kernels.cpp')],
    }));
    jobs.push({
      obj: join(objDir, 'addon.o'),
      args: [...COMMON, ...(x86 ? ['-DRNN_HAVE_X86_ISAS'] : []), '-DNAPI_VERSION=8', `-I${headers}`, '-c', join(src, 'addon.cpp')],
    });
    const results = await Promise.all(jobs.map((j) => run(cxx, [...j.args, '-o', j.obj])));
    const failed = results.findIndex((r) => !r.ok);
    if (failed >= 0) return stale(`compiling ${jobs[failed].obj} failed:\n${results[failed].err.trim()}`);

    // Link to a temporary name and rename, so a process loading the addon never sees a partial file.
    const tmp = `${out}.${process.pid}.tmp`;
    const objs = jobs.map((j) => j.obj);
    let link = await run(cxx, ['-shared', '-pthread', '-static-libstdc++', '-static-libgcc', '-o', tmp, ...objs]);
    if (!link.ok) link = await run(cxx, ['-shared', '-pthread', '-o', tmp, ...objs]);
    if (!link.ok) {
      rmSync(tmp, { force: true });
      return stale(`linking failed:\n${link.err.trim()}`);
    }
    renameSync(tmp, out);
    const warnings = results.map((r) => r.err.trim()).filter(Boolean);
    if (warnings.length) console.warn(`[build-native] compiler warnings:\n${warnings.join('\n')}`);
    return { ok: true, path: out };
  } catch (e) {
    return warn(`unexpected error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// Run directly: node scripts/build-native.mjs [--force]
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await buildNative(join(here, '..'), { force: process.argv.includes('--force') });
  if (r.ok) console.log(`[build-native] ${r.upToDate ? 'up to date' : 'built'}: ${r.path}`);
}
