/**
 * Error notifications: every one the extension shows goes through `showError`, which also keeps the last
 * hundred texts so that tests (through the extension's API) can check that a failure was reported once.
 */
import * as vscode from 'vscode';

const shown: string[] = [];

export function showError(text: string, ...items: string[]): Thenable<string | undefined> {
  shown.push(text);
  if (shown.length > 100) shown.shift();
  return vscode.window.showErrorMessage(text, ...items);
}

export function errorsShown(): readonly string[] {
  return shown;
}
