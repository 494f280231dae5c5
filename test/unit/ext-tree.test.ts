import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Architecture } from '../../core/model/architecture';
import { normalizeConfig } from '../../core/train/config';
import type { RunInfo } from '../../extension/runs';
import { newSnapshot, reduceTrainEvent } from '../../shared/training-snapshot';
import { architectureSummary, buildTree, modelNode, runNode, type ModelEntry } from '../../extension/tree-items';

const arch: Architecture = {
  inputSize: 1,
  layers: [
    { cell: 'nbrc', units: 32 },
    { cell: 'nbrc', units: 32 },
  ],
  readout: { units: 1, activation: 'linear', perStep: false },
  task: { name: 'copy', T: 300 },
};
const model: ModelEntry = {
  path: '/ws/models/a.safetensors',
  relPath: join('models', 'a.safetensors'),
  architecture: arch,
  paramCount: 4321,
};
const config = normalizeConfig({ task: 'copy', cell: 'brc', T: 20, layers: 1, units: 16, steps: 500 });

function run(over: Partial<RunInfo>): RunInfo {
  return {
    id: 'r1',
    dir: '/ws/runs/r1',
    config,
    status: { status: 'cancelled', step: 120, totalSteps: 500, skipped: 0, updatedAt: '', lastLoss: 0.25 },
    state: 'cancelled',
    hasCheckpoint: true,
    hasModel: true,
    hasBest: false,
    resumable: true,
    label: 'copy · BRC T=20 · 1×16',
    mtimeMs: 0,
    ...over,
  };
}

test('model nodes show cells and sizes, the folder, and a tooltip with the parameter count', () => {
  assert.equal(architectureSummary(arch), 'nBRC 2×32');
  assert.equal(
    architectureSummary({
      ...arch,
      layers: [
        { cell: 'gru', units: 8 },
        { cell: 'lstm', units: 6 },
      ],
    }),
    'GRU/LSTM 8-6',
  );
  const n = modelNode(model);
  assert.equal(n.label, 'a.safetensors');
  assert.equal(n.description, 'nBRC 2×32 · models');
  assert.equal(n.contextValue, 'model');
  assert.equal(n.path, model.path);
  assert.match(n.tooltip!, /4,321 parameters/);
  assert.match(n.tooltip!, /nBRC\(32\) → nBRC\(32\)/);
  assert.deepEqual(n.command?.args, [model.path]);
});

test('a stopped run with a checkpoint is resumable; its context value drives the menus', () => {
  const n = runNode(run({}));
  // run.json says "cancelled"; the tree says "stopped", the word the panel and the Inspector use.
  assert.equal(n.contextValue, 'run;stopped;resumable;hasModel');
  assert.match(n.contextValue!, /^run;/);
  assert.doesNotMatch(n.contextValue!, /;live/);
  assert.equal(n.description, 'stopped · step 120/500 · loss 0.25 · resumable');
  assert.deepEqual(
    n.children?.map((c) => c.label),
    ['model.safetensors', 'config.json', 'metrics.jsonl'],
  );
  assert.equal(n.children?.[0].contextValue, 'model');
  assert.equal(n.icon, 'debug-pause');
});

test('a run with a best model lists it after the current model, with the best metric and step', () => {
  const n = runNode(
    run({
      hasBest: true,
      status: {
        status: 'completed',
        step: 500,
        totalSteps: 500,
        skipped: 0,
        updatedAt: '',
        best: { step: 300, metric: 0.0412, metricName: 'mse' },
      },
    }),
  );
  assert.deepEqual(
    n.children?.map((c) => c.label),
    ['model.safetensors', 'model-best.safetensors', 'config.json', 'metrics.jsonl'],
  );
  const best = n.children![1];
  assert.equal(best.contextValue, 'model');
  assert.equal(best.description, 'best test MSE 0.0412 @ 300');
  assert.deepEqual(best.command?.args, ['/ws/runs/r1/model-best.safetensors']);
});

test('a live run shows its current step and loss and is neither resumable nor deletable', () => {
  const snap = reduceTrainEvent(newSnapshot('r1', 'label', config), {
    type: 'progress',
    step: 42,
    totalSteps: 500,
    loss: 0.123456,
    stepsPerSec: 100,
    skipped: 0,
    elapsedMs: 420,
  });
  const n = runNode(run({ state: 'running', resumable: false }), snap);
  assert.equal(n.description, 'step 42/500 · loss 0.123');
  assert.equal(n.contextValue, 'run;live;hasModel');
  assert.equal(n.icon, 'sync~spin');
});

test('a completed run without a model file has no model child and no resume flag', () => {
  const n = runNode(
    run({
      state: 'completed',
      resumable: false,
      hasModel: false,
      status: { status: 'completed', step: 500, totalSteps: 500, skipped: 0, updatedAt: '' },
    }),
  );
  assert.equal(n.contextValue, 'run;completed');
  assert.equal(n.description, 'completed · step 500/500');
  assert.ok(!n.children?.some((c) => c.contextValue === 'model'));
});

test('foreign model files are listed by format until diagnosed; the empty hint names every format', () => {
  const pt = modelNode({ path: '/ws/m/gru.pt', relPath: join('m', 'gru.pt') });
  assert.equal(pt.label, 'gru.pt');
  assert.equal(pt.description, 'PyTorch checkpoint · m');
  assert.equal(pt.contextValue, 'model');
  assert.equal(modelNode({ path: '/ws/k.keras', relPath: 'k.keras' }).description, 'Keras model');
  assert.equal(modelNode({ path: '/ws/t/model.json', relPath: join('t', 'model.json') }).description, 'TF.js model · t');
  const hint = buildTree([], [], new Map(), 'runs')[0].children?.[0].label ?? '';
  for (const ext of ['.safetensors', '.pt', '.pth', '.keras', '.h5', 'model.json']) assert.ok(hint.includes(ext), `${hint} lacks ${ext}`);
});

test('buildTree has a Models and a Runs group, with hint rows when empty', () => {
  const empty = buildTree([], [], new Map(), 'runs');
  assert.deepEqual(
    empty.map((g) => g.label),
    ['Models', 'Runs'],
  );
  assert.equal(empty[0].children?.[0].kind, 'empty');
  assert.match(empty[1].children?.[0].label ?? '', /No runs in runs\//);
  const full = buildTree([model], [run({}), run({ id: 'r2', dir: '/ws/runs/r2' })], new Map(), 'runs');
  assert.equal(full[0].description, '1');
  assert.equal(full[1].description, '2');
  assert.deepEqual(
    full[1].children?.map((c) => c.runId),
    ['r1', 'r2'],
  );
  const ids = new Set<string>();
  const walk = (n: (typeof full)[number]) => {
    assert.ok(!ids.has(n.id), `duplicate id ${n.id}`);
    ids.add(n.id);
    (n.children ?? []).forEach(walk);
  };
  full.forEach(walk);
});

/** Evaluates the subset of VS Code "when" clauses our menus use: ==, =~ /re/, !, &&, ||, parentheses. */
function evalWhen(expr: string, ctx: Record<string, string | boolean>): boolean {
  const tokens = expr.match(/\(|\)|&&|\|\||!(?!=)|=~\s*\/(?:\\.|[^/])*\/|==|[\w.]+/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const primary = (): boolean => {
    const t = next();
    if (t === '(') {
      const v = or();
      assert.equal(next(), ')');
      return v;
    }
    if (t === '!') return !primary();
    const key = t;
    if (peek() === '==') {
      next();
      return ctx[key] === next();
    }
    if (peek()?.startsWith('=~')) {
      const lit = next().replace(/^=~\s*/, '');
      return new RegExp(lit.slice(1, -1)).test(String(ctx[key] ?? ''));
    }
    if (key === 'false') return false;
    if (key === 'true') return true;
    return !!ctx[key];
  };
  const and = (): boolean => {
    let v = primary();
    while (peek() === '&&') {
      next();
      const r = primary();
      v = v && r;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (peek() === '||') {
      next();
      const r = and();
      v = v || r;
    }
    return v;
  };
  return or();
}

test('package.json tree context menus match the context values the tree produces', async () => {
  const pkg = JSON.parse((await import('node:fs')).readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const menus: { command: string; when: string; group?: string }[] = pkg.contributes.menus['view/item/context'];
  const commandsFor = (contextValue: string) =>
    new Set(
      menus
        .filter((m) => evalWhen(m.when, { view: 'rnnMemory.runs', viewItem: contextValue }))
        .map((m) => m.command.replace('rnnMemory.', '')),
    );
  const stopped = commandsFor(runNode(run({})).contextValue!);
  for (const c of ['resumeRun', 'openDiagnostics', 'showTraining', 'compareRuns', 'deleteItem', 'reveal'])
    assert.ok(stopped.has(c), `stopped run lacks ${c}`);
  assert.ok(!stopped.has('stopTraining'));
  const snap = newSnapshot('r1', 'label', config);
  const live = commandsFor(runNode(run({ state: 'running', resumable: false }), snap).contextValue!);
  assert.ok(live.has('stopTraining') && live.has('showTraining'));
  assert.ok(!live.has('resumeRun') && !live.has('deleteItem'), 'a live run must not offer resume or delete');
  const m = commandsFor(modelNode(model).contextValue!);
  for (const c of [
    'openDiagnostics',
    'showBistabilityMap',
    'showGradientFlow',
    'showRetention',
    'compareRuns',
    'exportReport',
    'deleteItem',
    'reveal',
  ])
    assert.ok(m.has(c), `model lacks ${c}`);
  assert.ok(!m.has('resumeRun') && !m.has('stopTraining') && !m.has('showTraining'));
  const noModel = commandsFor(runNode(run({ state: 'completed', resumable: false, hasModel: false })).contextValue!);
  assert.ok(!noModel.has('openDiagnostics') && !noModel.has('compareRuns'));
});
