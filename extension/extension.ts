/**
 * Entry point: wires core/ (training, diagnostics, model files) to VS Code. State lives in the host store
 * (store.ts, pure updates) and is shown through pure views (store-views.ts); controller.ts composes the rest.
 */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { registerCustomCells } from './custom-cells';
import { Controller } from './controller';
import { InspectorViewProvider } from './inspector-view';
import { MODEL_FILE_GLOB } from './model-sniff';
import { ModelEditorProvider } from './model-editor';
import { COMPARE_VIEW_TYPE, MODEL_EDITOR_VIEW_TYPE, PANEL_VIEWS, panelViewType, type PanelTarget } from './panels';
import type { WebviewChannel } from './webview-channel';
import type { TreeNode } from './tree-items';
import { errorsShown } from './notify';
import { registerTorchCommand } from './torch-command';
import { registerMonitorCommands } from './monitor-commands';
import { runSnapshot } from './store';
import type { DiagnosticReport } from '../core/diagnostics/types';
import type { TrainingSnapshot } from '../shared/protocol';

/** What activate() returns: used by the in-host tests (and usable by other extensions). */
export interface RnnMemoryApi {
  runsDir(): string;
  treeNodes(): readonly TreeNode[];
  refresh(): Promise<void>;
  panels(): {
    view: string;
    title: string;
    kind: string;
    ready: boolean;
    visible: boolean;
    received: string[];
    target: unknown;
    /** The training snapshot last posted to a training panel (its points are what the chart draws). */
    training?: TrainingSnapshot;
  }[];
  liveRuns(): { id: string; status: string; step: number; dir: string }[];
  /** Kills a run's worker at once, as a crash would (tests of the crash path). */
  killRun(runId: string): Promise<boolean>;
  currentModel(): string | undefined;
  /** The model the Inspector describes (null: none). */
  inspectorModel(): { name: string; path?: string; paramCount: number; layers: { cell: string; units: number }[] } | null;
  inspectorReady(): boolean;
  /** Texts of the error notifications shown so far (the last hundred). */
  errorsShown(): readonly string[];
  /** A run's training snapshot as the panels show it (live, finished, or a followed monitored run). */
  trainingSnapshot(runId: string): TrainingSnapshot | null;
  /** The diagnosis of a model path (the cached one the panels show). */
  diagnosis(path: string): Promise<DiagnosticReport>;
  /** The architecture answers remembered for a foreign model file (in the extension's storage). */
  modelAnswers(path: string): Record<string, string> | undefined;
}

let controller: Controller | undefined;

export function activate(context: vscode.ExtensionContext): RnnMemoryApi {
  const log = vscode.window.createOutputChannel('RNN Memory', { log: true });
  const c = new Controller(context, log);
  controller = c;
  const treeView = vscode.window.createTreeView('rnnMemory.runs', { treeDataProvider: c.tree, showCollapseAll: true, canSelectMany: true });
  context.subscriptions.push(
    log,
    c,
    treeView,
    treeView.onDidChangeSelection((e) => {
      const n = e.selection[0];
      if (!n) return;
      if (n.kind === 'model' || (n.kind === 'file' && n.contextValue === 'model')) c.selectModel(n.path);
      else if (n.kind === 'run' && n.runId) c.selectRun(n.runId);
    }),
    ...registerCommands(c),
    ...registerCustomCells(c),
    ...registerTorchCommand(c),
    ...registerMonitorCommands(c, c.monitored),
    vscode.window.registerWebviewViewProvider(InspectorViewProvider.viewId, c.inspector),
    vscode.window.registerCustomEditorProvider(MODEL_EDITOR_VIEW_TYPE, new ModelEditorProvider(c), {
      supportsMultipleEditorsPerDocument: true,
      webviewOptions: { retainContextWhenHidden: true },
    }),
    ...PANEL_VIEWS.map((view) =>
      vscode.window.registerWebviewPanelSerializer(panelViewType(view), {
        deserializeWebviewPanel: async (panel, state) => c.panels.restore(panel, view, state),
      }),
    ),
    vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => c.panels.restore(panel, 'compare', state),
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('rnnMemory.runsFolder')) {
        void c.refresh();
        c.monitored.rewatch();
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void c.refresh()),
  );
  watchFiles(context, c);
  void c.refresh(true);
  void vscode.commands.executeCommand('setContext', 'rnnMemory.training', false);

  return {
    runsDir: () => c.runsDir(),
    treeNodes: () => c.tree.getRoots(),
    refresh: () => c.refresh(true),
    panels: () =>
      [...c.panels.values()].map((p) => ({
        view: p.view,
        title: p.panel.title,
        kind: p.kind,
        ready: p.host.channel.isReady,
        visible: p.panel.visible,
        received: [...p.host.received],
        target: p.target,
        training: trainingPosted(p.host.channel, p.target),
      })),
    liveRuns: () =>
      c.manager.all().map((r) => {
        const s = c.store.state.live.get(r.id) ?? r.initial;
        return { id: r.id, status: s.status, step: s.step, dir: r.dir };
      }),
    killRun: async (runId) => {
      const r = c.manager.get(runId);
      if (!r) return false;
      await r.handle.kill();
      await r.finished;
      return true;
    },
    currentModel: () => c.currentModel,
    inspectorModel: () => {
      const m = c.inspectorModel();
      return (
        m && {
          name: m.name,
          path: m.path,
          paramCount: m.paramCount,
          layers: m.architecture.layers.map((l) => ({ cell: l.cell, units: l.units })),
        }
      );
    },
    inspectorReady: () => c.inspector.isReady,
    errorsShown: () => [...errorsShown()],
    modelAnswers: (path) => c.diagnoser.answersFor(path),
    trainingSnapshot: (runId) => runSnapshot(c.store.state, runId),
    diagnosis: (path) => c.diagnose(path),
  };
}

function trainingPosted(channel: WebviewChannel, target: PanelTarget): TrainingSnapshot | undefined {
  const m = target.kind === 'run' ? channel.latest(`training:${target.runId}`) : undefined;
  return m?.type === 'training' ? m.snapshot : undefined;
}

/** Model files anywhere in the workspace and files under the runs folder refresh the tree (debounced). */
function watchFiles(context: vscode.ExtensionContext, c: Controller): void {
  const models = vscode.workspace.createFileSystemWatcher(MODEL_FILE_GLOB);
  const runs = vscode.workspace.createFileSystemWatcher('**/{run.json,config.json}');
  const kick = () => void c.refresh();
  context.subscriptions.push(
    models,
    runs,
    models.onDidCreate(kick),
    models.onDidDelete(kick),
    models.onDidChange(kick),
    runs.onDidCreate(kick),
    runs.onDidDelete(kick),
    runs.onDidChange(kick),
  );
}

export async function deactivate(): Promise<void> {
  // Ask running workers to stop and save a checkpoint, so the runs can be resumed after the reload.
  await controller?.manager.dispose(3000);
  controller = undefined;
}
