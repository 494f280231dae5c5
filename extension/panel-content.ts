/**
 * What panels show: titles, the content of a new or restored panel (a run's training state from the store,
 * or a diagnosis from the worker), and live training updates to the training panels of a run, built from the
 * store's snapshots by the pure views of store-views.ts.
 */
import { basename, join } from 'node:path';
import type * as vscode from 'vscode';
import type { DiagnosticReport } from '../core/diagnostics/types';
import type { TrainingSnapshot } from '../shared/protocol';
import { showError } from './notify';
import { VIEW_TITLES, type PanelEntry, type PanelRegistry, type PanelTarget, type PanelView } from './panels';
import { readRun, snapshotFromDisk } from './runs';
import type { HostSettings } from './settings';
import { monitoredRun, runSnapshot, type HostStore } from './store';
import { trainingMessage } from './store-views';

export class PanelContent implements vscode.Disposable {
  private readonly subscriptions: { dispose(): void }[] = [];

  constructor(
    private readonly store: HostStore,
    private readonly settings: HostSettings,
    private readonly diagnose: (path: string) => Promise<DiagnosticReport>,
    /** A monitored run's snapshot, followed from then on (null: not a monitored run). */
    private readonly follow: (runId: string) => TrainingSnapshot | null = () => null,
  ) {}

  /** Follows the registry's panels: loads each one opened, and streams training to the run's panels. */
  attach(panels: PanelRegistry): void {
    this.subscriptions.push(
      panels.onDidOpen((entry) => void this.load(entry)),
      this.store.subscribe((state, a, prev) => {
        if (a.type === 'monitorMetrics' || a.type === 'monitorDiagnoses' || a.type === 'monitoredListed') {
          // A followed monitored run grew (new metrics lines) or changed status: its panels get the new state.
          for (const [runId, snapshot] of state.followed)
            if (prev.followed.get(runId) !== snapshot)
              for (const p of panels.forRun(runId)) p.host.flushTraining({ type: 'training', snapshot });
        } else if (a.type === 'trainEvent') {
          const snapshot = state.live.get(a.runId);
          if (snapshot) for (const p of panels.forRun(a.runId)) p.host.pushTrainingEvent(a.runId, a.event, { type: 'training', snapshot });
        } else if (a.type === 'runEnded' || a.type === 'runStarted') {
          // The final (or restarted) state in full, after any batched events: identical to the Inspector's.
          const runId = a.type === 'runEnded' ? a.runId : a.snapshot.runId;
          const msg = trainingMessage(state, runId);
          if (msg) for (const p of panels.forRun(runId)) p.host.flushTraining(msg);
        }
      }),
    );
  }

  title(view: PanelView | 'compare', target: PanelTarget): string {
    if (target.kind === 'run') {
      const label =
        runSnapshot(this.store.state, target.runId)?.label ??
        monitoredRun(this.store.state, target.runId)?.name ??
        readRun(join(this.settings.runsDir(), target.runId), target.runId)?.label;
      return `Training: ${label ?? target.runId}`;
    }
    if (target.kind === 'compare') return `Compare: ${target.paths.map((p) => this.settings.modelName(p)).join(' vs ')}`;
    return `${VIEW_TITLES[view as PanelView]}: ${this.settings.modelName(target.path)}`;
  }

  /** A run's snapshot as saved on disk (for runs not from this window). */
  diskSnapshot(runId: string): TrainingSnapshot | null {
    const live = new Set(this.store.state.live.keys());
    const info = readRun(join(this.settings.runsDir(), runId), runId, live);
    return info ? snapshotFromDisk(info) : null;
  }

  private async load(p: PanelEntry): Promise<void> {
    const t = p.target;
    if (t.kind === 'run') {
      const known = runSnapshot(this.store.state, t.runId) ?? this.follow(t.runId);
      const msg = trainingMessage(this.store.state, t.runId, known ? null : this.diskSnapshot(t.runId));
      p.host.post(msg ?? { type: 'status', kind: 'error', text: `Run ${t.runId} was not found in ${this.settings.runsDir()}` });
      return;
    }
    if (t.kind === 'compare') {
      p.host.post({ type: 'status', kind: 'busy', text: `Diagnosing ${t.paths.length} models…` });
      try {
        const items: { label: string; report: DiagnosticReport }[] = [];
        for (const path of t.paths) items.push({ label: this.settings.modelName(path), report: await this.diagnose(path) });
        p.host.post({ type: 'reports', items });
        p.host.post({ type: 'status', kind: 'info', text: '' });
      } catch (e) {
        p.host.post({ type: 'status', kind: 'error', text: (e as Error).message });
      }
      return;
    }
    p.host.post({ type: 'status', kind: 'busy', text: `Diagnosing ${basename(t.path)}…` });
    try {
      const report = await this.diagnose(t.path);
      p.host.post({ type: 'report', report, label: this.settings.modelName(t.path) });
      p.host.post({ type: 'status', kind: 'info', text: '' });
    } catch (e) {
      const msg = (e as Error).message;
      p.host.post({ type: 'status', kind: 'error', text: msg });
      void showError(`RNN Memory: cannot diagnose ${basename(t.path)}: ${msg}`);
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
