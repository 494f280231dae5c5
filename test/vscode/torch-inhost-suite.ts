/**
 * In-host checks of "Diagnose PyTorch Model…" (trusted workspace, real VS Code API): the contribution
 * (command, Explorer menu, trust), the model diagnosed through the bridge and then shown like any other model
 * (model editor, Inspector, a panel, compare, export), and the notification of each kind of failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RnnMemoryApi } from '../../extension/extension';
import type { TorchFixtures } from './torch-fixtures';
import { assert, suiteResults } from './suite-results';

const EXTENSION_ID = 'rnn-memory-lens.rnn-memory-lens';
const COMMAND = 'rnnMemory.diagnoseTorchModel';

async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Runs the command expecting a failure; returns the new error notification's text. */
async function failure(a: RnnMemoryApi, arg: Record<string, unknown>): Promise<string> {
  const shown = a.errorsShown().length;
  let rejected = false;
  await Promise.resolve(vscode.commands.executeCommand(COMMAND, arg)).catch(() => (rejected = true));
  assert(rejected, 'the command did not fail');
  const texts = a.errorsShown().slice(shown);
  assert(texts.length === 1, `expected one error notification, got ${texts.length}: ${texts.join(' | ')}`);
  return texts[0];
}

export async function run(): Promise<void> {
  const fx = JSON.parse(readFileSync(process.env.RNN_MEMORY_INHOST_FIXTURES!, 'utf8')) as TorchFixtures;
  const { check, finish } = suiteResults(process.env.RNN_MEMORY_INHOST_RESULT!, 240_000);
  let api: RnnMemoryApi | undefined;
  const gru = { file: fx.models, name: 'gru_model', weights: fx.weights, task: 'copy', T: 8 };

  await check('the command is contributed for trusted workspaces, in the palette and on .py files in the Explorer', async () => {
    const ext = vscode.extensions.getExtension<RnnMemoryApi>(EXTENSION_ID);
    assert(ext, 'extension not installed');
    api = await ext.activate();
    assert((await vscode.commands.getCommands(true)).includes(COMMAND), `${COMMAND} is not registered`);
    const pkg = ext.packageJSON as {
      contributes: { commands: { command: string; enablement?: string }[]; menus: Record<string, { command: string; when?: string }[]> };
      capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
    };
    assert(pkg.contributes.commands.find((c) => c.command === COMMAND)?.enablement === 'isWorkspaceTrusted', 'not disabled when untrusted');
    const menu = pkg.contributes.menus['explorer/context'].find((m) => m.command === COMMAND);
    assert(menu?.when?.includes('resourceExtname == .py'), `Explorer menu: ${JSON.stringify(menu)}`);
    assert(
      pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('rnnMemory.python.path'),
      'python.path is not restricted',
    );
    assert(vscode.workspace.getConfiguration('rnnMemory.python').get('path') === fx.python, 'the workspace setting is not read');
  });
  if (!api) {
    finish();
    return;
  }
  const a = api;
  let path = '';

  await check('diagnoses models.py:gru_model with its weights and opens its report in the model editor', async () => {
    const r = await vscode.commands.executeCommand<string | undefined>(COMMAND, gru);
    assert(typeof r === 'string' && r.endsWith('.torchmodel.json') && existsSync(r), `returned ${String(r)}`);
    path = r;
    const editor = await waitFor('the model editor of the PyTorch model', () =>
      a.panels().find((p) => p.kind === 'editor' && (p.target as { path?: string }).path === path && p.ready),
    );
    assert(editor.title === 'models.py:gru_model (gru-weights.pt)', `editor title ${editor.title}`);
  });

  await check('the Inspector describes the PyTorch model: one custom 6-unit layer, the whole module’s parameters', async () => {
    const m = await waitFor('the Inspector to describe the model', () => {
      const i = a.inspectorModel();
      return i && i.path === path && i.layers.length > 0 ? i : null;
    });
    assert(JSON.stringify(m.layers) === JSON.stringify([{ cell: 'custom', units: 6 }]), `layers ${JSON.stringify(m.layers)}`);
    // GRUCell ih (1·18 + 18) and hh (6·18 + 18) and the head (6 + 1).
    assert(m.paramCount === 169, `paramCount ${m.paramCount}`);
  });

  await check('Show Bistability Map, Compare Runs and Export Report work on it like on any model', async () => {
    const shown = await vscode.commands.executeCommand<{ title: string }>('rnnMemory.showBistabilityMap', path);
    assert(shown?.title === 'Bistability: models.py:gru_model (gru-weights.pt)', `title ${shown?.title}`);
    await waitFor('the bistability panel to be ready', () => a.panels().find((p) => p.title === shown.title && p.ready));
    const again = await vscode.commands.executeCommand<string>(COMMAND, { ...gru, T: 6 });
    assert(again !== path, 'another sequence length is another model');
    const cmp = await vscode.commands.executeCommand<{ title: string }>('rnnMemory.compareRuns', [path, again]);
    assert(/^Compare: models\.py:gru_model .* vs models\.py:gru_model /.test(cmp?.title ?? ''), `compare title ${cmp?.title}`);
    const out = join(fx.workspace, 'torch-report.html');
    const written = await vscode.commands.executeCommand<string>('rnnMemory.exportReport', path, out);
    const html = readFileSync(written, 'utf8');
    assert(html.includes('models.py:gru_model'), 'the report does not name the model');
    const tree = JSON.stringify(a.treeNodes());
    assert(tree.includes('models.gru_model') && tree.includes('PyTorch model (your Python)'), 'the tree does not list the model');
  });

  const setPython = (p: string | undefined) =>
    vscode.workspace.getConfiguration('rnnMemory.python').update('path', p, vscode.ConfigurationTarget.Workspace);

  await check('Python not found: a notification naming the setting (action: Select Python Interpreter)', async () => {
    await setPython('/nonexistent/python3');
    try {
      const text = await failure(a, { ...gru, T: 5 });
      assert(
        text ===
          'RNN Memory: Python not found: "/nonexistent/python3" (setting rnnMemory.python.path). Select an interpreter or set rnnMemory.python.path.',
        text,
      );
    } finally {
      await setPython(fx.python);
    }
  });

  await check('an exception in the user’s factory: its file:line and message', async () => {
    const text = await failure(a, { file: fx.models, name: 'raises', task: 'copy', T: 5 });
    assert(text.startsWith(`RNN Memory: ${fx.models}:${fx.raisesLine}: KeyError: `), text);
  });

  await check('ambiguous cells: says so without CLI flags (action: Enter Cell Names)', async () => {
    const text = await failure(a, { file: fx.models, name: 'make', task: 'copy', T: 5 });
    assert(/^RNN Memory: ambiguous cells: /.test(text) && !text.includes('--cells'), text);
  });

  await check('weights that do not match the module: PyTorch’s own missing/unexpected keys', async () => {
    const text = await failure(a, { file: fx.models, name: 'lstm_model', weights: fx.weights, task: 'copy', T: 5 });
    assert(/^RNN Memory: weights .*gru-weights\.pt do not match the module: /.test(text), text);
  });

  await check('cells named by the user are used (the ambiguous model with cells: left)', async () => {
    const r = await vscode.commands.executeCommand<string>(COMMAND, { file: fx.models, name: 'make', cells: ['left'], task: 'copy', T: 5 });
    assert(typeof r === 'string' && existsSync(r), `returned ${String(r)}`);
  });
  finish();
}
