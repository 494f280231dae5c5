/**
 * PyTorch bridge bench: diagnose() of the same 2 × 100 nBRC model at T = 300, batch 64, on the built-in fast
 * engine and through the bridge (the model written as PyTorch cells, test/fixtures/torch/models.py, on CPU).
 * Target: the bridge within 2× the built-in engine; the built-in diagnosis runs before and after the
 * bridge's and the ratio uses their mean. Measured on 2 shared cores (load average 8–14): 1.16×, 1.56×, 1.66×
 * (15.6× before the helper ran on one torch thread, moved large arrays through files, sent gates only on
 * request and batched the probe VJPs). Gradient flow is where the bridge stays slowest (4–5× the built-in:
 * autograd over 300 eager steps of ~12 PyTorch ops each). Needs a Python with torch (RNN_MEMORY_PYTHON,
 * the .e2e/python venv of scripts/python-setup.sh, or python3).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diagnose } from '../core/diagnostics/diagnose';
import { cellResolver, resolveEngine } from '../core/engine/index';
import { createModel } from '../core/model/network';
import { writeSafetensors } from '../core/model/safetensors';
import { openTorchModel } from '../core/torch/bridge';
import { Rng } from '../core/util/rng';
import { benchPython } from './python';

export interface TorchBridgeBenchResult {
  /** Mean of the built-in runs before and after the bridge's. */
  builtinMs: number;
  builtinRunsMs: [number, number];
  bridgeMs: number;
  /** bridgeMs / builtinMs (target ≤ 2). */
  ratio: number;
  /** Per-section ms of the bridge run. */
  bridgeTimings: Record<string, number>;
  builtinTimings: Record<string, number>;
  startMs: number;
  torch: string;
}

export function benchTorchBridge(opts: { T?: number; batch?: number; units?: number; root?: string } = {}): TorchBridgeBenchResult {
  const root = opts.root ?? process.cwd();
  const T = opts.T ?? 300;
  const batch = opts.batch ?? 64;
  const H = opts.units ?? 100;
  const python = benchPython(root);
  const model = createModel(
    {
      inputSize: 1,
      layers: [
        { cell: 'nbrc', units: H },
        { cell: 'nbrc', units: H },
      ],
      readout: { units: 1, activation: 'linear', perStep: false },
      task: { name: 'copy', T },
    },
    new Rng(1),
  );
  const dir = mkdtempSync(join(tmpdir(), 'bench-torch-'));
  try {
    const sd = new Map<string, { shape: number[]; data: Float64Array }>();
    for (const [name, t] of model.params)
      sd.set(name === 'readout.kernel' ? 'readout.weight' : name, name === 'readout.kernel' ? { shape: [1, H], data: t.data } : t);
    const weights = join(dir, 'w.safetensors');
    writeFileSync(weights, writeSafetensors(sd, {}, 'F32'));
    const opts2 = { T, batch, seed: 1 };
    const runBuiltin = () => {
      const w0 = performance.now();
      const report = diagnose(model, { ...opts2, cells: cellResolver(resolveEngine('fast')) });
      return { report, ms: performance.now() - w0 };
    };
    // The built-in engine runs before and after the bridge and the ratio uses their mean: on shared cores
    // the load drifts over the minutes a run takes.
    const before = runBuiltin();
    const s0 = performance.now();
    const tm = openTorchModel({
      file: join(root, 'test', 'fixtures', 'torch', 'models.py'),
      name: 'brc_stack',
      args: { cell: 'nbrc', n_hidden: H, n_layers: 2 },
      weights,
      python,
      inputSize: 1,
      readoutActivation: 'linear',
      task: { name: 'copy', T },
    });
    const startMs = performance.now() - s0;
    try {
      const b0 = performance.now();
      const bridged = diagnose(tm.model, opts2);
      const bridgeMs = performance.now() - b0;
      const after = runBuiltin();
      const builtinMs = (before.ms + after.ms) / 2;
      return {
        builtinMs,
        builtinRunsMs: [before.ms, after.ms],
        bridgeMs,
        ratio: bridgeMs / builtinMs,
        bridgeTimings: bridged.timings,
        builtinTimings: before.report.timings,
        startMs,
        torch: tm.torchVersion,
      };
    } finally {
      tm.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node --import tsx bench/torch-bridge.ts` (not when bundled into dist/bench.js).
if (/bench[\\/]torch-bridge\.ts$/.test(process.argv[1] ?? '')) {
  const r = benchTorchBridge();
  const t = (x: Record<string, number>) =>
    Object.entries(x)
      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
      .join(', ');
  process.stdout.write(
    `diagnose 2×100 nBRC, T=300, B=64: built-in fast ${r.builtinMs.toFixed(0)} ms (${t(r.builtinTimings)}); PyTorch ${r.torch} bridge ${r.bridgeMs.toFixed(0)} ms (${t(r.bridgeTimings)}; start ${r.startMs.toFixed(0)} ms): ${r.ratio.toFixed(2)}× (target ≤ 2×)\n`,
  );
}
