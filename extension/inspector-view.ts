/** The Inspector webview view: selected model, its diagnosis sentences and a live mini loss chart. */
import * as vscode from 'vscode';
import type { Controller } from './controller';
import { hostedView, WebviewHost } from './webview-host';

export class InspectorViewProvider implements vscode.WebviewViewProvider {
  static readonly viewId = 'rnnMemory.inspector';

  constructor(private readonly c: Controller) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.c.inspector?.dispose();
    const host = new WebviewHost(
      hostedView(view),
      this.c.context.extensionUri,
      'inspector',
      'Inspector',
      async (_h, m) => {
        if (m.type === 'stopTraining') this.c.stopTraining(m.runId);
        else if (m.type === 'command') await vscode.commands.executeCommand(`rnnMemory.${m.command}`, ...(this.c.currentModel && m.command.startsWith('show') ? [vscode.Uri.file(this.c.currentModel)] : []));
        else if (m.type === 'exportCsv') await this.c.saveExport(m.filename, Buffer.from(m.csv, 'utf8'), { 'CSV files': ['csv'] });
        else if (m.type === 'exportPng') await this.c.saveExport(m.filename, Buffer.from(m.dataUrl.slice('data:image/png;base64,'.length), 'base64'), { 'PNG images': ['png'] });
        else if (m.type === 'error') this.c.log.warn(`inspector webview: ${m.message}`);
      },
      () => this.c.liveRate(),
      (line) => this.c.log.warn(line),
      (line) => this.c.log.info(line),
    );
    this.c.inspector = host;
    view.onDidDispose(() => {
      if (this.c.inspector === host) this.c.inspector = null;
    });
    this.c.pushInspector();
  }
}
