/** The status-bar item of live training: subscribes to the store and shows store-views statusBarView. */
import * as vscode from 'vscode';
import type { HostStore } from './store';
import { statusBarView } from './store-views';

export function trainingStatusItem(store: HostStore): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('rnnMemory.training', vscode.StatusBarAlignment.Left, 50);
  item.name = 'RNN Memory training';
  let shownText = '';
  const sub = store.subscribe((state, a) => {
    if (a.type !== 'trainEvent' && a.type !== 'runStarted' && a.type !== 'runEnded') return;
    const v = statusBarView(state);
    if (!v) {
      item.hide();
      shownText = '';
      return;
    }
    if (v.text === shownText) return;
    shownText = v.text;
    item.text = v.text;
    item.tooltip = v.tooltip;
    item.command = { command: 'rnnMemory.showTraining', title: 'Show Training', arguments: [v.runId] };
    item.show();
  });
  return { dispose: () => (sub.dispose(), item.dispose()) };
}
