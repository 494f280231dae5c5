/**
 * Advice in the diagnosis sentences names what the reader can change: CLI flags in the terminal and the HTML
 * report, VS Code settings in the extension (which has no flags). The reports are real diagnoses of small
 * models, sized so that the inconclusive verdicts (and their advice) come up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnose } from '../../core/diagnostics/diagnose';
import { describeReport, type ReportBody } from '../../core/diagnostics/sentences';
import { KNOBS } from '../../core/diagnostics/advice';
import type { DiagnosticReport } from '../../core/diagnostics/types';
import { makeModel } from '../helpers/diag-models';

const settings = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).contributes.configuration
  .properties as Record<string, { markdownDescription?: string; description?: string }>;

const body = (r: DiagnosticReport): ReportBody => {
  const { diagnosis: _, ...rest } = r;
  return rest;
};

/** Two layers, small batches everywhere: band, gradient-ratio, retention, probe and memory verdicts are inconclusive. */
function twoLayerReport(): ReportBody {
  const model = makeModel(
    [
      { cell: 'brc', units: 12 },
      { cell: 'nbrc', units: 10 },
    ],
    { seed: 5, task: { name: 'copy', T: 40 } },
  );
  return body(
    diagnose(model, {
      task: 'copy',
      T: 40,
      batch: 8,
      seed: 2,
      jacobianSequences: 8,
      probes: 2,
      fixedPoints: { steps: 1, starts: 8 },
      retention: { batch: 8, probeTrain: 8 },
      memory: { batch: 8 },
    }),
  );
}

/** A contracting GRU whose fixed-point runs get one step (inconclusive), and a ‖∂h_T/∂h_1‖ interval across 1e-3. */
function gruReport(): ReportBody {
  const model = makeModel([{ cell: 'gru', units: 5 }], { seed: 2 });
  const rk = model.params.get('layers.0.recurrent_kernel')!.data;
  for (let i = 0; i < rk.length; i++) rk[i] *= 0.3;
  const r = body(
    diagnose(model, {
      task: 'copy',
      T: 40,
      batch: 8,
      seed: 1,
      probes: 1,
      jacobianSequences: 8,
      fixedPoints: { steps: 1 },
      retention: { batch: 8, probeTrain: 8 },
    }),
  );
  const g = r.gradientFlow.layers[0];
  const jacobian = [{ value: 5e-4, lo: 1e-5, hi: 1e-2, n: 8, method: 'order-statistic' as const }, ...(g.jacobian ?? []).slice(1)];
  return {
    ...r,
    gradientFlow: { ...r.gradientFlow, layers: [{ ...g, jacobian, jacobianLowerBound: true, vanishing: false, exploding: false }] },
  };
}

test('every sentence shown in the extension names settings, never a CLI flag; the CLI keeps its flags', () => {
  const named = new Set<string>();
  for (const r of [twoLayerReport(), gruReport()]) {
    const cli = describeReport(r, 'cli').map((s) => s.text);
    const ext = describeReport(r, 'extension').map((s) => s.text);
    assert.equal(ext.length, cli.length);
    for (let i = 0; i < cli.length; i++) {
      assert.ok(!ext[i].includes('--'), `a CLI flag in the extension: ${ext[i]}`);
      // Each flag the CLI sentence names is the setting in the extension's, and package.json declares
      // that setting with the same flag in its description (an independent statement of the pairing).
      for (const flag of cli[i].match(/--[a-z-]+/g) ?? []) {
        const [key, k] = Object.entries(KNOBS).find(([, v]) => v.flag.endsWith(flag)) ?? [];
        assert.ok(key && k, `the CLI sentence names ${flag}, which has no setting: ${cli[i]}`);
        const id = `rnnMemory.${k.setting}`;
        assert.ok(ext[i].includes(`setting ${id}`), `${flag} → ${id} missing from: ${ext[i]}`);
        assert.ok(settings[id], `package.json declares no ${id}`);
        assert.match(
          settings[id].markdownDescription ?? settings[id].description ?? '',
          new RegExp(`\`${flag}\``),
          `${id}'s description does not name ${flag}`,
        );
        named.add(key);
      }
      if (!/--/.test(cli[i])) assert.equal(ext[i], cli[i], 'a sentence without advice reads the same in both');
    }
  }
  // The fixtures reach every piece of advice but clipping (its own test in diagnostics-report.test.ts).
  assert.deepEqual(
    [...named].sort(),
    Object.keys(KNOBS)
      .filter((k) => k !== 'clip')
      .sort(),
  );
});

test('every setting the advice names is declared in package.json', () => {
  for (const { setting } of Object.values(KNOBS)) assert.ok(settings[`rnnMemory.${setting}`], `rnnMemory.${setting}`);
});
