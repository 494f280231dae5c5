/** vscode adapter for the Runs & Models tree: TreeNode (pure data, tree-items.ts) → vscode.TreeItem. */
import * as vscode from 'vscode';
import type { HostAction, HostStore } from './store';
import { treeView } from './store-views';
import type { TreeNode } from './tree-items';

const COLLAPSE: Record<TreeNode['collapsible'], vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

export function toTreeItem(n: TreeNode): vscode.TreeItem {
  const item = new vscode.TreeItem(n.label, COLLAPSE[n.collapsible]);
  item.id = n.id;
  item.description = n.description;
  item.tooltip = n.tooltip;
  item.contextValue = n.contextValue;
  if (n.icon) item.iconPath = new vscode.ThemeIcon(n.icon);
  if (n.path && (n.kind === 'model' || n.kind === 'file')) item.resourceUri = vscode.Uri.file(n.path);
  if (n.command) {
    const args =
      n.command.command === 'vscode.open' ? n.command.args.map((a) => (typeof a === 'string' ? vscode.Uri.file(a) : a)) : n.command.args;
    item.command = { command: n.command.command, title: n.command.title, arguments: args };
  }
  return item;
}

export class RunsTreeProvider implements vscode.TreeDataProvider<TreeNode> {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: TreeNode[] = [];
  private readonly parents = new Map<string, TreeNode>();

  /** Replaces the whole tree (it is small: groups, models, runs and their files). */
  setRoots(roots: TreeNode[]): void {
    this.roots = roots;
    this.parents.clear();
    const walk = (n: TreeNode) => {
      for (const c of n.children ?? []) {
        this.parents.set(c.id, n);
        walk(c);
      }
    };
    roots.forEach(walk);
    this.changed.fire(undefined);
  }

  getRoots(): readonly TreeNode[] {
    return this.roots;
  }

  find(pred: (n: TreeNode) => boolean): TreeNode | undefined {
    const stack = [...this.roots];
    while (stack.length) {
      const n = stack.pop()!;
      if (pred(n)) return n;
      stack.push(...(n.children ?? []));
    }
    return undefined;
  }

  getTreeItem(n: TreeNode): vscode.TreeItem {
    return toTreeItem(n);
  }

  getChildren(n?: TreeNode): TreeNode[] {
    return n ? (n.children ?? []) : this.roots;
  }

  getParent(n: TreeNode): TreeNode | undefined {
    return this.parents.get(n.id);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Actions that change what the tree shows. Training events refresh it at most once a second. */
const TREE_ACTIONS: ReadonlySet<HostAction['type']> = new Set([
  'scanned',
  'runsListed',
  'monitoredListed',
  'modelOpened',
  'runStarted',
  'runEnded',
]);
const LIVE_TREE_INTERVAL_MS = 1000;

/** Keeps the tree equal to treeView(store.state). */
export function bindTreeToStore(tree: RunsTreeProvider, store: HostStore): vscode.Disposable {
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  const render = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    last = Date.now();
    tree.setRoots(treeView(store.state));
  };
  const sub = store.subscribe((_s, a) => {
    if (TREE_ACTIONS.has(a.type)) render();
    else if (a.type === 'trainEvent' && !timer) timer = setTimeout(render, Math.max(0, LIVE_TREE_INTERVAL_MS - (Date.now() - last)));
  });
  render();
  return { dispose: () => (sub.dispose(), timer && clearTimeout(timer)) };
}
