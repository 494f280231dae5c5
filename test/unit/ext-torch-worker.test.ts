/**
 * A PyTorch model described by a *.torchmodel.json, diagnosed by the extension's diagnostics worker through
 * the bridge: the report (architecture from the user's module, its parameter count), the refusal where user
 * code may not run (Restricted Mode), and the notification each real bridge failure maps to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTorchModel } from '../../core/torch/bridge';
import { parseTorchSpec, torchSpecText, type TorchSpec } from '../../core/torch/model-spec';
import { DiagnosticsService } from '../../extension/diagnosis-workers';
import { TORCH_ACTIONS, torchErrorView } from '../../extension/torch-errors';
import { skipWithoutPython, TORCH_FIXTURES, torchPython } from '../helpers/torch-python';

const skip = skipWithoutPython('ext-torch-worker.test.ts');
const python = torchPython.python ?? 'python3';
const MODELS = join(TORCH_FIXTURES, 'models.py');
const root = join(__dirname, '..', '..');

function withService<T>(fn: (svc: DiagnosticsService, dir: string) => Promise<T>): Promise<T> {
  const d = mkdtempSync(join(tmpdir(), 'torch-worker-'));
  // The worker from the sources through tsx's require hook; the extension runs the same entry bundled.
  const entry = join(d, 'worker.cjs');
  writeFileSync(
    entry,
    `require(${JSON.stringify(require.resolve('tsx/cjs', { paths: [root] }))}); require(${JSON.stringify(join(root, 'core', 'diagnostics', 'worker-entry.ts'))});`,
  );
  const svc = new DiagnosticsService(entry);
  return fn(svc, d).finally(() => {
    svc.dispose();
    rmSync(d, { recursive: true, force: true });
  });
}

function specFile(dir: string, spec: TorchSpec): string {
  const p = join(dir, `${spec.name}.torchmodel.json`);
  writeFileSync(p, torchSpecText(spec));
  return p;
}

test('the diagnostics worker diagnoses a described PyTorch model through the bridge', { skip }, () =>
  withService(async (svc, dir) => {
    const spec = parseTorchSpec({
      file: MODELS,
      name: 'gru_model',
      weights: join(TORCH_FIXTURES, 'gru-weights.pt'),
      task: { name: 'copy', T: 6 },
    });
    const report = await svc.get({
      modelPath: specFile(dir, spec),
      engine: 'reference',
      batch: 4,
      retention: { batch: 8, probeTrain: 8 },
      memory: { batch: 8 },
      jacobianSequences: 2,
      allowCustomCells: true,
      torch: { python },
    });
    // gru_model(): one GRU cell of 6 units reading 1 input, an nn.Linear(6, 1) head.
    assert.deepEqual(
      report.model.architecture.layers.map((l) => [l.cell, l.units]),
      [['custom', 6]],
    );
    assert.equal(report.model.architecture.inputSize, 1);
    // The whole nn.Module: GRUCell ih (1·18 + 18) and hh (6·18 + 18), head 6 + 1.
    assert.equal(report.model.paramCount, 36 + 126 + 7);
    assert.equal(report.bistability.layers[0].a.length, 6, 'one bistability row per step');
    assert.ok(report.gradientFlow.layers[0].norm.every((v) => v === null || Number.isFinite(v)));
  }),
);

test('the worker refuses a PyTorch model where user code may not run, before starting Python', { skip }, () =>
  withService(async (svc, dir) => {
    const spec = parseTorchSpec({ file: MODELS, name: 'gru_model', task: { name: 'copy', T: 6 } });
    // A Python that does not exist: were it started, the error would be "Python not found".
    await assert.rejects(
      svc.get({ modelPath: specFile(dir, spec), allowCustomCells: false, torch: { python: '/nonexistent/python3' } }),
      (e: Error) => {
        assert.equal(e.message, 'models.py:gru_model runs your Python code, so PyTorch models are diagnosed only in a trusted workspace');
        assert.equal(torchErrorView(e.message).kind, 'trust');
        assert.deepEqual(torchErrorView(e.message).actions, [TORCH_ACTIONS.manageTrust]);
        return true;
      },
    );
  }),
);

/** The bridge's own error for a model, as the worker reports it. */
function bridgeError(spec: Partial<Parameters<typeof openTorchModel>[0]>, env?: NodeJS.ProcessEnv): string {
  const saved = process.env.PYTHONPATH;
  if (env?.PYTHONPATH) process.env.PYTHONPATH = env.PYTHONPATH;
  try {
    const m = openTorchModel({
      file: MODELS,
      name: 'gru_model',
      python,
      inputSize: 1,
      readoutActivation: 'linear',
      timeoutMs: 60_000,
      ...spec,
    });
    m.close();
    return '';
  } catch (e) {
    return (e as Error).message;
  } finally {
    if (saved === undefined) delete process.env.PYTHONPATH;
    else process.env.PYTHONPATH = saved;
  }
}

test('each bridge failure becomes a notification with the action that fixes it', { skip }, () => {
  const notFound = torchErrorView(bridgeError({ python: '/nonexistent/python3' }), '/nonexistent/python3', 'setting rnnMemory.python.path');
  assert.equal(notFound.kind, 'python');
  assert.equal(
    notFound.text,
    'Python not found: "/nonexistent/python3" (setting rnnMemory.python.path). Select an interpreter or set rnnMemory.python.path.',
  );
  assert.deepEqual(notFound.actions, [TORCH_ACTIONS.selectInterpreter]);

  const noTorch = torchErrorView(bridgeError({}, { PYTHONPATH: join(TORCH_FIXTURES, 'fake-torch-missing') }));
  assert.equal(noTorch.kind, 'torch');
  assert.match(noTorch.text, /^PyTorch is not installed for /);
  assert.deepEqual(noTorch.actions, [TORCH_ACTIONS.selectInterpreter]);
  const old = torchErrorView(bridgeError({}, { PYTHONPATH: join(TORCH_FIXTURES, 'fake-torch-old') }));
  assert.equal(old.kind, 'torch');
  assert.match(old.text, /^torch 1\.13\.1 is too old/);

  const line =
    readFileSync(MODELS, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('["missing"]')) + 1;
  const raised = torchErrorView(bridgeError({ name: 'raises' }));
  assert.equal(raised.kind, 'user-code');
  assert.deepEqual(raised.location, { file: MODELS, line });
  assert.match(raised.text, /KeyError: 'missing'$/);
  assert.deepEqual(raised.actions, [TORCH_ACTIONS.openFile]);

  const ambiguous = torchErrorView(bridgeError({ name: 'make' }));
  assert.equal(ambiguous.kind, 'cells');
  assert.match(ambiguous.text, /^ambiguous cells: .*left.*right/);
  assert.doesNotMatch(ambiguous.text, /--cells/, 'no CLI flag in the editor');
  assert.deepEqual(ambiguous.actions, [TORCH_ACTIONS.enterCells]);
  const wrongCell = torchErrorView(bridgeError({ name: 'gru_model', cells: ['nothing'] }));
  assert.equal(wrongCell.kind, 'cells');
  assert.doesNotMatch(wrongCell.text, /--cells/);

  const mismatch = torchErrorView(bridgeError({ name: 'lstm_model', weights: join(TORCH_FIXTURES, 'gru-weights.pt') }));
  assert.equal(mismatch.kind, 'weights');
  assert.match(mismatch.text, /do not match the module/);
  assert.deepEqual(mismatch.actions, [TORCH_ACTIONS.chooseWeights]);

  const other = torchErrorView('the PyTorch helper died (signal SIGKILL)');
  assert.deepEqual([other.kind, other.actions], ['other', []]);
});
