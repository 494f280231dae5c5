/**
 * `npm run bench`: ms per training step (forward + BPTT through a 2-layer stack + readout + Adam)
 * and per forward pass, for every cell, on our native engine, the WebAssembly engine and the reference engine
 * (first configuration only: they are slower) and a PyTorch peer (bench/torch_peer.py, when `import torch`
 * works). Prints one table and writes bench-output/bench.json.
 *
 * Flags: --quick (fewer repetitions, PyTorch with FTZ only), --no-torch, --no-torch-bridge, --no-monitor, --no-reference, --no-wasm, --no-diagnose,
 * --cells brc,gru, --configs 0,2, --reps N, --out DIR.
 * Each measurement runs in a child process (`--child JSON`) so that peak memory is its own.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { benchDiagnose } from './diagnose';
import { benchTorchBridge, type TorchBridgeBenchResult } from './torch-bridge';
import { benchMonitorOverhead, type MonitorOverheadResult } from './monitor-overhead';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { CELL_KINDS, type CellKind } from '../core/cells/types';
import { fastEngineStatus, wasmEngineStatus, type EngineName } from '../core/engine/index';
import { wasmThreads } from '../core/engine/wasm-threads';
import { nativeKernels } from '../core/engine/fast';
import { runWorkload, type Measurement, type Workload } from './workload';
import { benchPython } from './python';

interface Config {
  T: number;
  units: number;
  layers: number;
  batch: number;
}

const CONFIGS: Config[] = [
  { T: 300, units: 100, layers: 2, batch: 100 },
  { T: 1000, units: 100, layers: 2, batch: 100 },
  { T: 300, units: 256, layers: 2, batch: 100 },
];

interface TorchResult {
  cell: CellKind;
  threads: number;
  ftz: boolean;
  stepMedianMs: number;
  forwardMedianMs: number;
  stepCpuMs: number;
  stepMs: number[];
}

interface Row {
  config: Config;
  cell: CellKind;
  fast?: Measurement;
  /** The WebAssembly engine (batch split over wasmThreads()), and its step and forward times / native's and / reference's. */
  wasm?: Measurement;
  /** The same on one thread: wasm1 / wasm is what the batch split gains. */
  wasm1?: Measurement;
  wasmRatios?: {
    stepVsNative: number;
    forwardVsNative: number;
    cpuVsNative: number;
    stepVsReference?: number;
    stepVsTorch?: number;
    splitSpeedup?: number;
  };
  /**
   * Backward in the denormal range (Workload.denormal) / the same step with normal values, both without the
   * optimiser update: what wasm pays for having no flush-to-zero switch, next to native (FTZ/DAZ set).
   */
  denormal?: { wasm: number; native: number; wasmMs: number; wasmNormalMs: number };
  reference?: Measurement;
  torch?: { results: TorchResult[]; maxRssMb: number; version: string };
  torchError?: string;
  bestTorch?: { stepMs: number; variant: string; forwardMs: number };
  ratio?: number;
  forwardRatio?: number;
  /** Our CPU time per step (all threads) / single-thread FTZ PyTorch's: compares work, not wall time. */
  cpuRatio?: number;
  loadAvg: number;
}

function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}
function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Runs one workload in a child process of this script and returns its measurement. */
function child(w: Workload, env: NodeJS.ProcessEnv = process.env): Measurement {
  const args = [...process.execArgv, process.argv[1], '--child', JSON.stringify(w)];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26, env });
  if (r.status !== 0) throw new Error(`benchmark child failed (${w.engine} ${w.cell}): ${r.stderr || r.error}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Measurement;
}

function torchPeerPath(): string | undefined {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  return [join(here, 'torch_peer.py'), join(here, '..', 'bench', 'torch_peer.py'), join(process.cwd(), 'bench', 'torch_peer.py')].find(
    existsSync,
  );
}

function torchAvailable(): { ok: boolean; why?: string; version?: string } {
  const r = spawnSync(benchPython(), ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.status === 0) return { ok: true, version: r.stdout.trim() };
  return { ok: false, why: r.error ? String(r.error) : (r.stderr || '').trim().split('\n').pop() };
}

function runTorch(peer: string, cfg: Config, cell: CellKind, quick: boolean, reps: number): NonNullable<Row['torch']> {
  const args = [
    peer,
    '--cells',
    cell,
    '--T',
    String(cfg.T),
    '--units',
    String(cfg.units),
    '--layers',
    String(cfg.layers),
    '--batch',
    String(cfg.batch),
    '--reps',
    String(reps),
    '--warmup',
    '1',
    ...(quick ? ['--threads', '1,2', '--ftz', 'on'] : []),
  ];
  const r = spawnSync(benchPython(), args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error((r.stderr || String(r.error)).trim().split('\n').slice(-3).join(' '));
  const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
  return { results: out.results, maxRssMb: out.maxRssMb, version: out.torch };
}

const fmt = (v: number | undefined, d = 0) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));
const variantName = (r: TorchResult) => `${r.threads}t ${r.ftz ? 'FTZ' : 'noFTZ'}`;

async function main(): Promise<void> {
  const quick = flag('quick');
  const reps = Number(option('reps') ?? (quick ? 3 : 5));
  const torchReps = Math.max(2, Math.min(reps, quick ? 2 : 3));
  const cells = (option('cells')?.split(',') ?? [...CELL_KINDS]) as CellKind[];
  const configIdx = option('configs')?.split(',').map(Number) ?? CONFIGS.map((_, i) => i);
  const outDir = resolve(option('out') ?? 'bench-output');

  const status = fastEngineStatus();
  const info = nativeKernels()?.info();
  const torch = flag('no-torch') ? { ok: false, why: 'disabled by --no-torch' } : torchAvailable();
  const peer = torchPeerPath();
  const wasmStatus = flag('no-wasm') ? { available: false, reason: 'disabled by --no-wasm' } : wasmEngineStatus();
  console.log(
    `wasm engine: ${wasmStatus.available ? `built (SIMD128, batch split over ${wasmThreads()} thread${wasmThreads() === 1 ? '' : 's'})` : `not run (${wasmStatus.reason})`}`,
  );
  console.log(`fast engine: ${status.available ? `native, ${info?.isa}, ${info?.threads} threads` : `unavailable (${status.reason})`}`);
  console.log(
    `PyTorch peer: ${torch.ok && peer ? `torch ${torch.version} (${benchPython()})` : `not run (${peer ? torch.why : 'bench/torch_peer.py not found'}); timing ours only`}`,
  );
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg()[0].toFixed(2)}`);

  const rows: Row[] = [];
  for (const ci of configIdx) {
    const cfg = CONFIGS[ci];
    for (const cell of cells) {
      const row: Row = { config: cfg, cell, loadAvg: loadavg()[0] };
      const base = { cell, T: cfg.T, units: cfg.units, layers: cfg.layers, batch: cfg.batch };
      row.fast = child({ ...base, engine: 'fast', warmup: 2, reps });
      if (ci === 0 && wasmStatus.available) {
        row.wasm = child({ ...base, engine: 'wasm', warmup: 1, reps });
        if (wasmThreads() > 1) row.wasm1 = child({ ...base, engine: 'wasm', warmup: 1, reps }, { ...process.env, RNN_FAST_THREADS: '1' });
      }
      if (ci === 0 && wasmStatus.available) {
        const pair = (engine: EngineName) =>
          [true, false].map((denormal) => child({ ...base, engine, warmup: 1, reps, denormal, noUpdate: true }).stepMedianMs);
        const [wd, wn] = pair('wasm');
        const [nd, nn] = pair('fast');
        row.denormal = { wasm: wd / wn, native: nd / nn, wasmMs: wd, wasmNormalMs: wn };
      }
      if (ci === 0 && !flag('no-reference')) row.reference = child({ ...base, engine: 'reference', warmup: 1, reps: 2 });
      if (torch.ok && peer) {
        try {
          const tr = runTorch(peer, cfg, cell, quick, torchReps);
          row.torch = tr;
          const best = [...tr.results].sort((a, b) => a.stepMedianMs - b.stepMedianMs)[0];
          const bestFwd = Math.min(...tr.results.map((r) => r.forwardMedianMs));
          row.bestTorch = { stepMs: best.stepMedianMs, variant: variantName(best), forwardMs: bestFwd };
          row.ratio = row.fast.stepMedianMs / best.stepMedianMs;
          const oneThread = tr.results.find((r) => r.threads === 1 && r.ftz);
          if (oneThread) row.cpuRatio = row.fast.stepCpuMs / oneThread.stepCpuMs;
          row.forwardRatio = row.fast.forwardMedianMs / bestFwd;
        } catch (e) {
          row.torchError = e instanceof Error ? e.message : String(e);
        }
      }
      if (row.wasm) {
        const [w, n] = [row.wasm, row.fast];
        row.wasmRatios = {
          stepVsNative: w.stepMedianMs / n.stepMedianMs,
          forwardVsNative: w.forwardMedianMs / n.forwardMedianMs,
          cpuVsNative: w.stepCpuMs / n.stepCpuMs,
          stepVsReference: row.reference ? w.stepMedianMs / row.reference.stepMedianMs : undefined,
          stepVsTorch: row.bestTorch ? w.stepMedianMs / row.bestTorch.stepMs : undefined,
          splitSpeedup: row.wasm1 ? row.wasm1.stepMedianMs / w.stepMedianMs : undefined,
        };
      }
      rows.push(row);
      console.error(
        `[bench] T=${cfg.T} ${cfg.layers}x${cfg.units} ${cell}: ours ${fmt(row.fast.stepMedianMs)} ms/step` +
          (row.bestTorch ? `, best PyTorch ${fmt(row.bestTorch.stepMs)} ms (${row.bestTorch.variant})` : ''),
      );
    }
  }
  printTable(rows, quick);
  // Issue 4's target: a full diagnose of a 4×100 model on 1000 steps × batch 64 in under 1 s, reported
  // next to one plain forward+backward of the same batch (its floor) measured in the same process.
  const diag = flag('no-diagnose') ? undefined : await benchDiagnose();
  // The same diagnosis on the wasm engine (what machines without the addon get), as a ratio to native.
  const diagWasm = diag && wasmStatus.available && diag.engine === 'native' ? await benchDiagnose({ engine: 'wasm', reps: 1 }) : undefined;
  for (const d of [diag, diagWasm]) {
    if (!d) continue;
    console.log(
      `\ndiagnose ${d.layers}×${d.units} ${d.cell}, T=${d.T}, batch ${d.batch} (${d.engine}): ${fmt(d.ms)} ms ` +
        `(target ${d.targetMs} ms; one forward+backward of the same batch ${fmt(d.forwardBackwardMs)} ms, ratio ${fmt(d.ms / d.forwardBackwardMs, 2)}` +
        `${d === diagWasm ? `; wasm/native ${fmt(d.ms / diag!.ms, 2)}` : ''}); ` +
        `sections: ${Object.entries(d.timings)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join(', ')}`,
    );
  }
  // Issue 12's target: diagnose through the PyTorch bridge within 2× the built-in engine (2×100, T=300, B=64).
  let bridge: TorchBridgeBenchResult | { error: string } | undefined;
  if (!flag('no-torch') && !flag('no-torch-bridge')) {
    try {
      bridge = benchTorchBridge();
      console.log(
        `\ndiagnose through the PyTorch bridge (2×100 nBRC, T=300, batch 64, CPU): ${fmt(bridge.bridgeMs)} ms vs built-in ${fmt(bridge.builtinMs)} ms ` +
          `(mean of ${bridge.builtinRunsMs.map((v) => fmt(v)).join(' before and ')} after): ${fmt(bridge.ratio, 2)}× (target ≤ 2×; helper start ${fmt(bridge.startMs)} ms)`,
      );
    } catch (e) {
      bridge = { error: (e as Error).message };
      console.log(`\nPyTorch bridge: not run (${bridge.error})`);
    }
  }
  let monitor: MonitorOverheadResult | { error: string } | undefined;
  if (!flag('no-torch') && !flag('no-monitor')) {
    try {
      monitor = benchMonitorOverhead(process.cwd(), quick);
      console.log(
        `\nMonitor overhead (2×128 nn.GRU, T=100, batch 64, CPU, snapshot every ${monitor.every} steps): ` +
          `${fmt(monitor.plainMsPerStep, 1)} ms/step plain vs ${fmt(monitor.monitoredMsPerStep, 1)} ms/step monitored: ` +
          `${fmt(100 * monitor.overhead, 1)} % (target < 5 %; ${monitor.steps} steps each, alternating blocks)`,
      );
    } catch (e) {
      monitor = { error: (e as Error).message };
      console.log(`\nMonitor overhead: not run (${monitor.error})`);
    }
  }
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'bench.json');
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        fastEngine: { ...status, ...info },
        wasmEngine: wasmStatus,
        torch: torch.ok ? torch.version : null,
        torchNote: torch.ok ? undefined : torch.why,
        configs: configIdx.map((i) => CONFIGS[i]),
        rows,
        scaling: scaling(rows),
        diagnose: diag,
        diagnoseWasm: diagWasm,
        torchBridge: bridge,
        monitorOverhead: monitor,
      },
      null,
      2,
    ),
  );
  console.log(`\nwritten ${file}`);
}

function printTable(rows: Row[], quick: boolean): void {
  const variants = quick ? ['1t FTZ', '2t FTZ'] : ['1t FTZ', '2t FTZ', '1t noFTZ', '2t noFTZ'];
  const head = [
    'T',
    'layers',
    'cell',
    'ours step',
    'ours fwd',
    'ours cpu',
    'reference',
    ...variants.map((v) => `torch ${v}`),
    'best torch',
    'ours/best',
    'fwd ours/best',
    'cpu ours/torch1t',
    'ours RSS MB',
    'torch RSS MB',
    'load',
  ];
  const body = rows.map((r) => {
    const tv = (v: string) => r.torch?.results.find((x) => variantName(x) === v)?.stepMedianMs;
    return [
      String(r.config.T),
      `${r.config.layers}x${r.config.units}`,
      r.cell,
      fmt(r.fast?.stepMedianMs),
      fmt(r.fast?.forwardMedianMs),
      fmt(r.fast?.stepCpuMs),
      fmt(r.reference?.stepMedianMs),
      ...variants.map((v) => fmt(tv(v))),
      fmt(r.bestTorch?.stepMs),
      fmt(r.ratio, 2),
      fmt(r.forwardRatio, 2),
      fmt(r.cpuRatio, 2),
      fmt(r.fast?.maxRssMb),
      fmt(r.torch?.maxRssMb),
      fmt(r.loadAvg, 1),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols: string[]) => cols.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log('\nms per step (median); "ours/best" = our training step / fastest PyTorch variant (wall time);');
  console.log('"cpu ours/torch1t" = our CPU time per step (all threads) / 1-thread FTZ PyTorch CPU time, which other load on the');
  console.log('machine hardly affects; RSS = peak resident memory of the measuring process; load = 1-minute load average');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
  const s = scaling(rows);
  if (s.length) {
    console.log('\nscaling of our step time (ideal: ×T for T, ×(H²-dominated) for H; CPU time is less moved by other load):');
    for (const x of s)
      console.log(
        `  ${x.cell}: ${x.what} ${x.from} -> ${x.to}: ×${x.factor.toFixed(2)} (CPU time ×${x.cpuFactor.toFixed(2)})` +
          (x.torchFactor ? ` (PyTorch best ×${x.torchFactor.toFixed(2)})` : '') +
          (x.faults ? `; page faults per step ${x.faults[0]} -> ${x.faults[1]}` : ''),
      );
  }
  const wasmRows = rows.filter((r) => r.wasm && r.wasmRatios);
  if (wasmRows.length) {
    console.log(
      `\nWebAssembly engine (${wasmThreads()} threads) vs native (all threads), reference and best PyTorch, same run; split: wasm on 1 thread / on ${wasmThreads()}:`,
    );
    const wh = [
      'T',
      'layers',
      'cell',
      'wasm step',
      'wasm fwd',
      'wasm/native step',
      'wasm/native fwd',
      'wasm/native cpu',
      'wasm/reference',
      'wasm/torch',
      'split',
    ];
    const wb = wasmRows.map((r) => {
      const q = r.wasmRatios!;
      return [
        String(r.config.T),
        `${r.config.layers}x${r.config.units}`,
        r.cell,
        fmt(r.wasm!.stepMedianMs),
        fmt(r.wasm!.forwardMedianMs),
        fmt(q.stepVsNative, 2),
        fmt(q.forwardVsNative, 2),
        fmt(q.cpuVsNative, 2),
        fmt(q.stepVsReference, 3),
        fmt(q.stepVsTorch, 2),
        fmt(q.splitSpeedup, 2),
      ];
    });
    const ww = wh.map((h, i) => Math.max(h.length, ...wb.map((b) => b[i].length)));
    const wl = (cols: string[]) => cols.map((c, i) => (i < 3 ? c.padEnd(ww[i]) : c.padStart(ww[i]))).join('  ');
    console.log(wl(wh));
    console.log(ww.map((w) => '-'.repeat(w)).join('  '));
    for (const b of wb) console.log(wl(b));
  }
  const denRows = rows.filter((r) => r.denormal);
  if (denRows.length) {
    console.log(
      '\nBackward in the float32 denormal range (dL/dh near 1e-39 at every step; no optimiser update) / the same step with normal values:',
    );
    for (const r of denRows) {
      const d = r.denormal!;
      console.log(
        `  T=${r.config.T} ${r.config.layers}x${r.config.units} ${r.cell}: wasm ×${fmt(d.wasm, 2)} (${fmt(d.wasmNormalMs)} -> ${fmt(d.wasmMs)} ms), native ×${fmt(d.native, 2)} (FTZ/DAZ)`,
      );
    }
  }
  for (const r of rows) if (r.torchError) console.log(`PyTorch failed for T=${r.config.T} ${r.cell}: ${r.torchError}`);
}

interface Scaling {
  cell: CellKind;
  what: 'T' | 'units';
  from: number;
  to: number;
  factor: number;
  /** The same ratio for CPU time per step (all threads). */
  cpuFactor: number;
  torchFactor?: number;
  /** Minor page faults per step at `from` and at `to`. */
  faults?: [number, number];
}

/** How our (and PyTorch's) step time grows from the first configuration along T and along H. */
function scaling(rows: Row[]): Scaling[] {
  const out: Scaling[] = [];
  const base = CONFIGS[0];
  for (const r0 of rows.filter((r) => r.config === base && r.fast)) {
    for (const r1 of rows.filter((r) => r.cell === r0.cell && r.config !== base && r.fast)) {
      const what = r1.config.T !== base.T ? 'T' : 'units';
      out.push({
        cell: r0.cell,
        what,
        from: what === 'T' ? base.T : base.units,
        to: what === 'T' ? r1.config.T : r1.config.units,
        factor: (r1.fast as Measurement).stepMedianMs / (r0.fast as Measurement).stepMedianMs,
        cpuFactor: (r1.fast as Measurement).stepCpuMs / (r0.fast as Measurement).stepCpuMs,
        torchFactor: r0.bestTorch && r1.bestTorch ? r1.bestTorch.stepMs / r0.bestTorch.stepMs : undefined,
        faults:
          r0.fast?.stepFaults !== undefined && r1.fast?.stepFaults !== undefined ? [r0.fast.stepFaults, r1.fast.stepFaults] : undefined,
      });
    }
  }
  return out;
}

const ci = process.argv.indexOf('--child');
if (ci >= 0) {
  const w = JSON.parse(process.argv[ci + 1]) as Workload;
  const k = nativeKernels();
  if (w.threads) k?.setThreads(w.threads);
  const info = w.engine === 'fast' ? k?.info() : undefined;
  console.log(JSON.stringify(runWorkload(w, info ? { isa: info.isa, nativeThreads: info.threads } : undefined)));
} else {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
