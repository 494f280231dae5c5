/**
 * Opening a model in our custom editor exactly once: a model already open in it (in any editor group) is
 * revealed rather than opened a second time, and a tab showing the file in another editor (VS Code's
 * "binary file" warning, from before our editor became the default) is replaced rather than kept beside
 * it, so no two tabs carry the same file name.
 */
import * as vscode from 'vscode';

export async function openModelTab(uri: vscode.Uri, viewType: string): Promise<void> {
  const same = (u: vscode.Uri) => u.scheme === uri.scheme && u.fsPath === uri.fsPath;
  const isOurs = (t: vscode.Tab) => t.input instanceof vscode.TabInputCustom && t.input.viewType === viewType && same(t.input.uri);
  // Tab objects go stale when a group changes, so each step reads the tabs afresh.
  const tabsOfFile = () =>
    vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => (t.input instanceof vscode.TabInputText || t.input instanceof vscode.TabInputCustom) && same(t.input.uri));
  const before = tabsOfFile();
  const column = (before.find(isOurs) ?? before[0])?.group.viewColumn;
  await vscode.commands.executeCommand('vscode.openWith', uri, viewType, { viewColumn: column, preview: false });
  const others = tabsOfFile().filter((t) => !isOurs(t));
  if (others.length) await vscode.window.tabGroups.close(others, true);
}
