/**
 * Command arguments arrive from many places (tree context menus, the explorer, webviews, tests, other
 * extensions): a vscode.Uri, a path string, a tree node, or an options object. These helpers normalise them
 * without importing vscode (a Uri is recognised by its `fsPath`/`scheme`).
 */
import { isSafeRunId } from './runs';

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A local file path from a Uri, a file: URL string, a plain path, a tree node or {path}/{modelPath}/{uri}. */
export function pathFromArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') {
    if (arg.startsWith('file://')) {
      try {
        return decodeURIComponent(new URL(arg).pathname);
      } catch {
        return undefined;
      }
    }
    return arg.length > 0 ? arg : undefined;
  }
  if (!isObj(arg)) return undefined;
  if (typeof arg.fsPath === 'string' && (arg.scheme === undefined || arg.scheme === 'file' || arg.scheme === 'vscode-remote'))
    return arg.fsPath;
  if (typeof arg.modelPath === 'string') return arg.modelPath;
  if (typeof arg.path === 'string' && arg.kind !== undefined) return arg.path;
  if (isObj(arg.uri)) return pathFromArg(arg.uri);
  if (typeof arg.path === 'string' && arg.scheme === undefined) return arg.path;
  return undefined;
}

/** A run id from a string, a tree node ({runId}) or {runId}. */
export function runIdFromArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') return isSafeRunId(arg) ? arg : undefined;
  if (isObj(arg) && typeof arg.runId === 'string' && isSafeRunId(arg.runId)) return arg.runId;
  return undefined;
}

/** Collects paths from (item, selectedItems) as a tree context menu passes them, or from an array. */
export function pathsFromArgs(first: unknown, rest: unknown): string[] {
  const list: unknown[] = Array.isArray(rest) && rest.length > 0 ? rest : Array.isArray(first) ? first : [first];
  const out: string[] = [];
  for (const a of list) {
    const p = pathFromArg(a);
    if (p && !out.includes(p)) out.push(p);
  }
  return out;
}

/** `{key: value}` options object, when the argument is one (and not a Uri or tree node). */
export function optionsArg(arg: unknown): Record<string, unknown> | undefined {
  if (!isObj(arg) || typeof arg.fsPath === 'string' || arg.kind !== undefined) return undefined;
  return arg;
}

/** Architecture answers `{key: value}` (string values only), or undefined when there are none. */
export function answersArg(v: unknown): Record<string, string> | undefined {
  if (!isObj(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return Object.keys(out).length > 0 ? out : undefined;
}
