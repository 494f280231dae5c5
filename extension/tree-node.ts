/** One row of the Runs & Models tree as plain data (tree-items.ts and monitored-tree.ts build them). */
export interface TreeNode {
  id: string;
  kind: 'group' | 'model' | 'run' | 'file' | 'empty';
  label: string;
  description?: string;
  tooltip?: string;
  contextValue?: string;
  /** A codicon id; '~spin' animates. */
  icon?: string;
  /** File or folder on disk (resourceUri, reveal, delete). */
  path?: string;
  /** For run nodes. */
  runId?: string;
  collapsible: 'none' | 'collapsed' | 'expanded';
  children?: TreeNode[];
  /** Run on click (vscode command id + arguments). */
  command?: { command: string; title: string; args: unknown[] };
}
