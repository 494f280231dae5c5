/**
 * Read-only custom editor, the default for the binary model formats (*.safetensors, PyTorch .pt/.pth, Keras
 * .keras/.h5), which VS Code can otherwise only show as a "binary file" warning: every diagnostics view of
 * the model on one page, rendered in the editor's webview. TF.js model.json stays a text file; the Open Model
 * command opens it here. The diagnostics worker opens foreign formats (core/formats openAnyModel).
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { isTorchSpecPath } from '../core/torch/model-spec';
import type { Controller } from './controller';

class ModelDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri) {}
  dispose(): void {}
}

export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider<ModelDocument> {
  constructor(private readonly c: Controller) {}

  openCustomDocument(uri: vscode.Uri): ModelDocument {
    return new ModelDocument(uri);
  }

  resolveCustomEditor(doc: ModelDocument, panel: vscode.WebviewPanel): void {
    const path = doc.uri.fsPath;
    // A PyTorch model's description file is named by its model (FILE.py:NAME), not by the file in our storage.
    panel.title = isTorchSpecPath(path) ? this.c.modelName(path) : basename(path);
    panel.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.c.context.extensionUri, 'dist', 'webview')],
    };
    // The whole report (summary, diagnosis, bistability, gradient flow, retention, fixed points) on one page.
    this.c.panels.adopt(panel, 'report', { kind: 'model', path }, true, 'editor');
    // Listed in the tree (whatever its format or folder) and, when in front, shown by the Inspector.
    this.c.modelOpened(path);
    if (panel.active) this.c.selectModel(path);
    panel.onDidChangeViewState(() => {
      if (panel.active) this.c.selectModel(path);
    });
  }
}
