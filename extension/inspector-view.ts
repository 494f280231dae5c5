/**
 * The Inspector webview view: selected model, its diagnosis sentences and a live mini loss chart. It
 * subscribes to the store and posts store-views inspectorMessage; its messages go to the one handler table.
 */
import * as vscode from 'vscode';
import { handleWebviewMessage, type MessageDeps } from './message-handlers';
import type { HostSettings } from './settings';
import type { HostAction, HostStore } from './store';
import { inspectedSnapshot, inspectorMessage } from './store-views';
import { hostedView, WebviewHost } from './webview-host';

/** Actions after which the Inspector is sent its whole message (training events go incrementally). */
const FULL_UPDATES: ReadonlySet<HostAction['type']> = new Set(['runStarted', 'modelSelected', 'modelDiagnosed', 'runSelected']);

export class InspectorViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'rnnMemory.inspector';
  private host: WebviewHost | null = null;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly store: HostStore,
    private readonly settings: HostSettings,
    private readonly deps: MessageDeps,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscription = store.subscribe((state, a) => {
      const host = this.host;
      if (!host || host.isDisposed) return;
      const followed = inspectedSnapshot(state)?.runId;
      if (a.type === 'trainEvent') {
        // The mini chart follows its run through incremental events (a full message re-renders the view).
        if (a.runId === followed) host.pushTrainingEvent(a.runId, a.event, inspectorMessage(state));
      } else if (a.type === 'runEnded') {
        host.flushTraining(inspectorMessage(state));
      } else if (FULL_UPDATES.has(a.type)) {
        host.post(inspectorMessage(state));
      }
    });
  }

  get isReady(): boolean {
    return !!this.host && !this.host.isDisposed && this.host.channel.isReady;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.host?.dispose();
    const host = new WebviewHost(
      hostedView(view),
      this.settings.context.extensionUri,
      'inspector',
      'Inspector',
      (h, m) => {
        const s = this.store.state;
        return handleWebviewMessage(
          this.deps,
          { modelPath: s.selection.path, runId: inspectedSnapshot(s)?.runId, view: 'inspector', reply: (r) => h.post(r) },
          m,
        );
      },
      () => this.settings.liveRate(),
      (line) => this.log.warn(line),
      (line) => this.log.info(line),
    );
    this.host = host;
    view.onDidDispose(() => {
      if (this.host === host) this.host = null;
    });
    host.post(inspectorMessage(this.store.state));
  }

  dispose(): void {
    this.subscription.dispose();
    this.host?.dispose();
  }
}
