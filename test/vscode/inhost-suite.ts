/**
 * In-host tests: bundled to JS and loaded by VS Code as `extensionTestsPath`, so `run()` executes inside the
 * extension host with the real `vscode` API. Each check's result is appended to the JSON file named by
 * RNN_MEMORY_INHOST_RESULT; the driver (inhost.test.ts) turns them into node:test results.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { loadModel } from '../../core/model/model-file';
import { RUN_FILES } from '../../core/train/run';
import type { RnnMemoryApi } from '../../extension/extension';
import type { TreeNode } from '../../extension/tree-items';
import type { Fixtures } from './fixtures';
import { assert, suiteResults } from './suite-results';

const EXTENSION_ID = 'rnn-memory-lens.rnn-memory-lens';

async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 30_000, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function flatten(nodes: readonly TreeNode[]): TreeNode[] {
  const out: TreeNode[] = [];
  const walk = (n: TreeNode) => {
    out.push(n);
    (n.children ?? []).forEach(walk);
  };
  nodes.forEach(walk);
  return out;
}

const SMALL = { T: 10, layers: 1, units: 8, batch: 16, evalEvery: 20, testSize: 50, checkpointEvery: 20, lr: 3e-3, engine: 'reference' };

export async function run(): Promise<void> {
  const resultFile = process.env.RNN_MEMORY_INHOST_RESULT!;
  const fx = JSON.parse(readFileSync(process.env.RNN_MEMORY_INHOST_FIXTURES!, 'utf8')) as Fixtures;
  const { check, finish } = suiteResults(resultFile);
  let api: RnnMemoryApi | undefined;

  await check('the extension activates and returns its API', async () => {
    const ext = vscode.extensions.getExtension<RnnMemoryApi>(EXTENSION_ID);
    assert(ext, `extension ${EXTENSION_ID} is not installed`);
    api = await ext.activate();
    assert(ext.isActive, 'extension is not active after activate()');
    assert(typeof api?.treeNodes === 'function', 'activate() did not return the API');
  });
  if (!api) {
    finish();
    return;
  }
  const a = api;

  await check('every contributed command is registered, with the RNN Memory category', async () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: { commands: { command: string; category: string }[] };
    };
    const contributed = pkg.contributes.commands;
    const required = [
      'trainCopyTask',
      'trainTask',
      'stopTraining',
      'openModel',
      'showBistabilityMap',
      'showGradientFlow',
      'showRetention',
      'compareRuns',
      'exportReport',
      'resumeRun',
    ].map((c) => `rnnMemory.${c}`);
    for (const r of required)
      assert(
        contributed.some((c) => c.command === r),
        `${r} is not contributed in package.json`,
      );
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c.command)).map((c) => c.command);
    assert(missing.length === 0, `contributed but not registered: ${missing.join(', ')}`);
    const wrongCategory = contributed.filter((c) => c.category !== 'RNN Memory').map((c) => c.command);
    assert(wrongCategory.length === 0, `commands without the RNN Memory category: ${wrongCategory.join(', ')}`);
  });

  await check('settings have their documented defaults', async () => {
    const c = vscode.workspace.getConfiguration('rnnMemory');
    assert(c.get('runsFolder') === 'runs', `runsFolder default is ${c.get('runsFolder')}`);
    assert(c.get('engine') === 'fast', `engine default is ${c.get('engine')}`);
    assert((c.get<number>('liveUpdateRate') ?? 0) >= 2, `liveUpdateRate default ${c.get('liveUpdateRate')} is below 2 Hz`);
    assert(a.runsDir() === fx.runsDir, `runsDir() is ${a.runsDir()}, expected ${fx.runsDir}`);
  });

  await check('the tree lists our model files (header sniffed) and not a foreign safetensors file', async () => {
    await a.refresh();
    const nodes = flatten(a.treeNodes());
    const models = nodes.filter((n) => n.kind === 'model').map((n) => n.path);
    assert(models.includes(fx.trained), `trained fixture missing from the tree: ${JSON.stringify(models)}`);
    assert(models.includes(fx.untrained), `untrained fixture missing from the tree: ${JSON.stringify(models)}`);
    assert(!models.includes(fx.foreign), 'a foreign safetensors file (format=pt) is listed as a model');
    const untrained = nodes.find((n) => n.path === fx.untrained)!;
    assert(/GRU\/LSTM/.test(untrained.description ?? ''), `model description does not name the cells: ${untrained.description}`);
  });

  await check('an interrupted run on disk is listed after a reload and marked resumable', async () => {
    const node = flatten(a.treeNodes()).find((n) => n.kind === 'run' && n.runId === fx.interruptedRun);
    assert(node, `run ${fx.interruptedRun} is not in the tree`);
    assert(/;resumable/.test(node.contextValue ?? ''), `run contextValue ${node.contextValue} lacks resumable`);
    assert(/interrupted/.test(node.description ?? ''), `run description "${node.description}" does not say interrupted`);
    assert(/step 40\/80/.test(node.description ?? ''), `run description "${node.description}" does not show step 40/80`);
  });

  let trainedRun = '';
  await check('trainCopyTask with a config argument trains in a worker and saves the run', async () => {
    const t0 = Date.now();
    const r = (await vscode.commands.executeCommand('rnnMemory.trainCopyTask', { ...SMALL, cell: 'brc', steps: 60, wait: true })) as {
      runId: string;
      dir: string;
      status: string;
      error?: string;
    };
    assert(r && r.status === 'completed', `run ended as ${r?.status}: ${r?.error ?? ''}`);
    trainedRun = r.runId;
    assert(r.dir.startsWith(fx.runsDir), `run dir ${r.dir} is not under ${fx.runsDir}`);
    const status = readJson(join(r.dir, RUN_FILES.status));
    assert(status.status === 'completed' && status.step === 60, `run.json: ${JSON.stringify(status)}`);
    const cfg = readJson(join(r.dir, RUN_FILES.config));
    assert(cfg.task === 'copy' && cfg.cell === 'brc' && cfg.units === 8 && cfg.T === 10, `config.json: ${JSON.stringify(cfg)}`);
    const { model } = loadModel(join(r.dir, RUN_FILES.model));
    assert(
      model.arch.layers.length === 1 && model.arch.layers[0].cell === 'brc' && model.arch.layers[0].units === 8,
      `saved architecture: ${JSON.stringify(model.arch)}`,
    );
    const lines = readFileSync(join(r.dir, RUN_FILES.metrics), 'utf8').trim().split('\n');
    assert(lines.length === 4, `metrics.jsonl has ${lines.length} lines, expected evaluations at 0, 20, 40, 60`);
    const panel = a.panels().find((p) => p.view === 'training' && (p.target as { runId?: string }).runId === r.runId);
    assert(panel, `no training panel was opened for ${r.runId}`);
    await waitFor('the training panel to post ready', () => a.panels().find((p) => p.title === panel.title)?.ready, 20_000);
    assert(Date.now() - t0 < 60_000, 'training took over a minute');
  });

  await check('the new run appears in the tree as completed with its model file', async () => {
    await a.refresh();
    const node = flatten(a.treeNodes()).find((n) => n.kind === 'run' && n.runId === trainedRun);
    assert(node, `run ${trainedRun} not in the tree`);
    assert(/^completed/.test(node.description ?? ''), `description: ${node.description}`);
    assert(
      node.children?.some((c) => c.contextValue === 'model' && c.path?.endsWith(RUN_FILES.model)),
      'run has no model child',
    );
  });

  await check('a training panel hidden behind another editor reloads and re-announces ready when shown (no retained context)', async () => {
    const shown = (await vscode.commands.executeCommand('rnnMemory.showTraining', trainedRun)) as { title: string };
    const readies = () =>
      a
        .panels()
        .find((p) => p.title === shown.title)
        ?.received.filter((m) => m === 'ready').length ?? 0;
    await waitFor('the training panel to be ready', () => readies() >= 1, 20_000);
    const before = readies();
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(fx.interruptedDir, RUN_FILES.config)));
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Active, preview: false });
    await waitFor('the panel to be hidden', () => a.panels().find((p) => p.title === shown.title)?.visible === false, 10_000);
    await vscode.commands.executeCommand('rnnMemory.showTraining', trainedRun);
    await waitFor('the re-created webview to post ready again', () => readies() > before, 20_000);
  });

  await check('stopTraining stops a live run at a step boundary; the run is saved, resumable, and resumeRun finishes it', async () => {
    const r = (await vscode.commands.executeCommand('rnnMemory.trainCopyTask', { ...SMALL, cell: 'gru', steps: 1_000_000 })) as {
      runId: string;
      dir: string;
    };
    await waitFor('the live run to pass step 30', () => (a.liveRuns().find((x) => x.id === r.runId)?.step ?? 0) > 30, 30_000);
    const stopped = await vscode.commands.executeCommand('rnnMemory.stopTraining', r.runId);
    assert(stopped === 1, `stopTraining returned ${stopped}`);
    await waitFor('the run to end', () => !a.liveRuns().some((x) => x.id === r.runId), 20_000);
    const status = readJson(join(r.dir, RUN_FILES.status));
    assert(status.status === 'cancelled', `run.json status ${status.status}`);
    const step = status.step as number;
    assert(step > 30 && step < 1_000_000, `stopped at step ${step}`);
    assert(
      existsSync(join(r.dir, RUN_FILES.checkpoint)) && existsSync(join(r.dir, RUN_FILES.model)),
      'checkpoint or model missing after stop',
    );
    await a.refresh();
    const node = flatten(a.treeNodes()).find((n) => n.runId === r.runId);
    assert(/;resumable/.test(node?.contextValue ?? ''), `stopped run is not resumable: ${node?.contextValue}`);
    const res = (await vscode.commands.executeCommand('rnnMemory.resumeRun', { runId: r.runId, steps: step + 20, wait: true })) as {
      status: string;
      step: number;
    };
    assert(res.status === 'completed' && res.step === step + 20, `resume ended ${JSON.stringify(res)}`);
    const after = readJson(join(r.dir, RUN_FILES.status));
    assert(after.status === 'completed' && after.step === step + 20, `run.json after resume: ${JSON.stringify(after)}`);
  });

  await check('resumeRun continues the interrupted run from its checkpoint (step 40) to the end', async () => {
    const res = (await vscode.commands.executeCommand('rnnMemory.resumeRun', { runId: fx.interruptedRun, wait: true })) as {
      status: string;
      step: number;
    };
    assert(res.status === 'completed' && res.step === 80, `resume ended ${JSON.stringify(res)}`);
    const lines = readFileSync(join(fx.interruptedDir, RUN_FILES.metrics), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).step);
    assert(JSON.stringify(lines) === JSON.stringify([0, 20, 40, 60, 80]), `metrics steps after resume: ${lines}`);
  });

  await check('a crashed training worker gives a clear error and the run stays resumable', async () => {
    const r = (await vscode.commands.executeCommand('rnnMemory.trainCopyTask', {
      ...SMALL,
      cell: 'lstm',
      steps: 1_000_000,
      checkpointEvery: 10,
    })) as { runId: string; dir: string };
    await waitFor('a checkpoint to be written', () => existsSync(join(r.dir, RUN_FILES.checkpoint)), 30_000);
    assert(await a.killRun(r.runId), 'killRun found no live run');
    const status = readJson(join(r.dir, RUN_FILES.status));
    assert(status.status === 'running', `a killed worker left run.json at ${status.status}`);
    await a.refresh();
    const node = flatten(a.treeNodes()).find((n) => n.runId === r.runId);
    assert(
      node && /interrupted/.test(node.description ?? '') && /;resumable/.test(node.contextValue ?? ''),
      `crashed run in tree: ${node?.description} / ${node?.contextValue}`,
    );
    const panel = a.panels().find((p) => p.view === 'training' && (p.target as { runId?: string }).runId === r.runId);
    assert(panel, 'the crashed run has no training panel');
  });

  await check('the custom editor opens a model file and its webview completes the ready handshake', async () => {
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(fx.trained), 'rnnMemory.modelEditor');
    const p = await waitFor(
      'an editor panel for the trained model',
      () => a.panels().find((x) => x.kind === 'editor' && (x.target as { path?: string }).path === fx.trained),
      15_000,
    );
    await waitFor(
      'the editor webview to post ready',
      () => a.panels().find((x) => x.title === p.title && x.kind === 'editor')?.ready,
      30_000,
    );
    assert(a.currentModel() === fx.trained, `current model is ${a.currentModel()}`);
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert(
      tab?.input instanceof vscode.TabInputCustom && tab.input.viewType === 'rnnMemory.modelEditor',
      'the active tab is not our custom editor',
    );
  });

  await check('showGradientFlow / showRetention / showBistabilityMap open one panel each for a model argument', async () => {
    const uri = vscode.Uri.file(fx.untrained);
    for (const [cmd, view] of [
      ['rnnMemory.showGradientFlow', 'gradientFlow'],
      ['rnnMemory.showRetention', 'retention'],
      ['rnnMemory.showBistabilityMap', 'bistability'],
    ] as const) {
      const r = (await vscode.commands.executeCommand(cmd, uri)) as { title: string };
      assert(r?.title, `${cmd} returned ${JSON.stringify(r)}`);
      const p = await waitFor(`${view} panel ready`, () => a.panels().find((x) => x.title === r.title && x.ready), 30_000);
      assert(p.view === view && p.kind === 'panel', `${cmd} opened ${p.view}/${p.kind}`);
    }
    const again = (await vscode.commands.executeCommand('rnnMemory.showRetention', uri)) as { title: string };
    assert(a.panels().filter((p) => p.title === again.title).length === 1, 'showing the same view twice opened a second panel');
  });

  await check("exportReport writes the standalone HTML report (the CLI's renderer) with the model's diagnosis", async () => {
    const out = join(fx.workspace, 'report-inhost.html');
    const r = await vscode.commands.executeCommand('rnnMemory.exportReport', vscode.Uri.file(fx.trained), out);
    assert(r === out, `exportReport returned ${r}`);
    const html = readFileSync(out, 'utf8');
    assert(/^<!DOCTYPE html>/i.test(html.trimStart()), 'report is not an HTML document');
    const data = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
    assert(data, 'no embedded report data');
    const payload = JSON.parse(data[1]) as {
      items: {
        label: string;
        report: { model: { architecture: { layers: { cell: string }[] } }; bistability: { layers: unknown[] }; diagnosis: unknown[] };
      }[];
    };
    const rep = payload.items[0].report;
    assert(payload.items[0].label === 'brc-copy.safetensors', `label ${payload.items[0].label}`);
    assert(
      rep.model.architecture.layers.length === 2 && rep.model.architecture.layers.every((l) => l.cell === 'brc'),
      'wrong architecture in the report',
    );
    assert(rep.bistability.layers.length === 2, `bistability has ${rep.bistability.layers.length} layers`);
    assert(rep.diagnosis.length > 0, 'no diagnosis sentences');
  });

  await check(
    'openModel opens a PyTorch state dict (GRU, .safetensors) with answers given as an argument; its report has bistability layers',
    async () => {
      const path = fx.torchSafetensors;
      const answers = { 'readout.activation': 'linear', 'readout.perStep': 'last' };
      const r = await vscode.commands.executeCommand('rnnMemory.openModel', { path, answers });
      assert(r === path, `openModel returned ${r}`);
      const p = await waitFor(
        'an editor panel for the PyTorch model',
        () => a.panels().find((x) => x.kind === 'editor' && (x.target as { path?: string }).path === path),
        15_000,
      );
      await waitFor(
        'the editor webview to post ready',
        () => a.panels().find((x) => x.title === p.title && x.kind === 'editor')?.ready,
        30_000,
      );
      // The report as the editor got it (the diagnosis is cached per file and answers).
      const out = join(fx.workspace, 'report-torch.html');
      assert(
        (await vscode.commands.executeCommand('rnnMemory.exportReport', vscode.Uri.file(path), out)) === out,
        'exportReport did not write the torch report',
      );
      const data = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(readFileSync(out, 'utf8'));
      assert(data, 'no embedded report data');
      const rep = (
        JSON.parse(data[1]) as {
          items: {
            report: {
              model: {
                architecture: {
                  inputSize: number;
                  layers: { cell: string; units: number }[];
                  readout: { units: number; activation: string; perStep: boolean };
                };
              };
              bistability: { layers: { a: number[][] }[] };
            };
          }[];
        }
      ).items[0].report;
      // The fixture is nn.GRU(3, 5, num_layers=2) + Linear(5, 2) on h_T (test/fixtures/formats/torch-gru.golden.json).
      const arch = rep.model.architecture;
      assert(
        arch.inputSize === 3 && arch.layers.length === 2 && arch.layers.every((l) => l.cell === 'gru' && l.units === 5),
        `architecture: ${JSON.stringify(arch)}`,
      );
      assert(
        arch.readout.units === 2 && arch.readout.activation === 'linear' && arch.readout.perStep === false,
        `readout: ${JSON.stringify(arch.readout)}`,
      );
      assert(rep.bistability.layers.length === 2, `bistability has ${rep.bistability.layers.length} layers`);
      assert(
        rep.bistability.layers.every((l) => l.a.length > 0 && l.a.every((row) => row.length === 5)),
        'bistability rows are not one value per unit',
      );
      // The answers are remembered in the extension's own storage, and nothing is written next to the model.
      assert(a.modelAnswers(path)?.['readout.activation'] === 'linear', `remembered answers: ${JSON.stringify(a.modelAnswers(path))}`);
      assert(!existsSync(`${path}.rnnmemory.json`), 'a sidecar was written next to the model');
      // The Inspector describes the foreign model (from its conversion) once the editor made it current.
      await waitFor('the model to become current', () => a.currentModel() === path, 15_000);
      const info = await waitFor('the Inspector to describe the PyTorch model', () => a.inspectorModel(), 30_000);
      assert(
        info.path === path && info.layers.length === 2 && info.layers.every((l) => l.cell === 'gru' && l.units === 5),
        `inspector model: ${JSON.stringify(info)}`,
      );
      // nn.GRU(3, 5, 2 layers): 3·(5·3 + 5·5 + 2·5) + 3·(5·5 + 5·5 + 2·5) = 150 + 180, plus Linear(5, 2) = 12.
      assert(info.paramCount === 342, `inspector parameter count ${info.paramCount}`);
    },
  );

  await check('a foreign model that needs answers fails clearly when none are given and the question is dismissed', async () => {
    // The .pt checkpoint has no sidecar yet: diagnosing it raises the quick pick, which is closed here.
    const failed = Promise.resolve(
      vscode.commands.executeCommand('rnnMemory.exportReport', vscode.Uri.file(fx.torchPt), join(fx.workspace, 'never.html')),
    ).then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    let msg = '';
    void failed.then((m) => (msg = m));
    // Keep dismissing until the command settles (the quick pick shows once the worker has read the file).
    await waitFor(
      'the command to settle after the quick pick is dismissed',
      async () => {
        await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
        return msg;
      },
      30_000,
      300,
    );
    assert(/needs answers/.test(msg), `exportReport without answers ended with: ${msg}`);
    assert(!existsSync(join(fx.workspace, 'never.html')), 'a report was written without answers');
  });

  await check('compareRuns with two models opens one compare panel', async () => {
    const r = (await vscode.commands.executeCommand('rnnMemory.compareRuns', vscode.Uri.file(fx.trained), [
      vscode.Uri.file(fx.trained),
      vscode.Uri.file(fx.untrained),
    ])) as { title: string };
    assert(r && /^Compare: /.test(r.title), `compareRuns returned ${JSON.stringify(r)}`);
    await waitFor('the compare panel to be ready', () => a.panels().find((p) => p.title === r.title && p.ready), 30_000);
  });

  await check('deleteItem removes a run folder (confirmation given) and the tree forgets it', async () => {
    const dir = join(fx.runsDir, trainedRun);
    const ok = await vscode.commands.executeCommand(
      'rnnMemory.deleteItem',
      { kind: 'run', path: dir, runId: trainedRun },
      { confirmed: true },
    );
    assert(ok === true, `deleteItem returned ${ok}`);
    assert(!existsSync(dir), 'run folder still exists');
    assert(!flatten(a.treeNodes()).some((n) => n.runId === trainedRun), 'deleted run still in the tree');
  });

  await check('the runsFolder setting changes where runs are listed', async () => {
    const c = vscode.workspace.getConfiguration('rnnMemory');
    await c.update('runsFolder', 'other-runs', vscode.ConfigurationTarget.Workspace);
    try {
      await waitFor('runsDir() to follow the setting', () => a.runsDir() === join(fx.workspace, 'other-runs'), 5000);
      await a.refresh();
      assert(!flatten(a.treeNodes()).some((n) => n.kind === 'run'), 'runs of the old folder still listed');
    } finally {
      await c.update('runsFolder', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await a.refresh();
  });

  finish();
}
