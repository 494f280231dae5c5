/**
 * The pure parts of "Diagnose PyTorch Model…" (no vscode, so unit tests import them): the factories a Python
 * file defines, found by reading it (never by running it: that waits for a trusted workspace and a chosen
 * factory), and the validation of the factory's keyword arguments and of cell names typed by the user.
 */

export interface Factory {
  name: string;
  kind: 'function' | 'class';
  /** 1-based line of its definition. */
  line: number;
}

/**
 * Top-level `def name(`, `async def name(` and `class Name` of a Python source, in file order, without private
 * names (a leading underscore). Definitions inside triple-quoted strings, indented blocks or after a line
 * continuation are not top-level and are skipped.
 */
export function listFactories(source: string): Factory[] {
  const out: Factory[] = [];
  let quote: string | null = null; // the triple quote that opened a string still open at this line
  let continued = false;
  for (const [i, raw] of source.split(/\r?\n/).entries()) {
    const line = raw.replace(/\s+$/, '');
    const topLevel = quote === null && !continued;
    quote = tripleQuoteState(line, quote);
    continued = quote === null && line.endsWith('\\');
    if (!topLevel) continue;
    const m = /^(?:async\s+)?(def|class)\s+([A-Za-z_][A-Za-z0-9_]*)\s*[(:]/.exec(line);
    if (m && !m[2].startsWith('_') && !out.some((f) => f.name === m[2]))
      out.push({ name: m[2], kind: m[1] === 'def' ? 'function' : 'class', line: i + 1 });
  }
  return out;
}

/** Which triple-quoted string is open after this line (single-line strings and comments are skipped). */
function tripleQuoteState(line: string, open: string | null): string | null {
  let i = 0;
  while (i < line.length) {
    if (open) {
      const end = line.indexOf(open, i);
      if (end < 0) return open;
      i = end + 3;
      open = null;
      continue;
    }
    const ch = line[i];
    if (ch === '#') return null;
    if (ch === '"' || ch === "'") {
      const triple = ch.repeat(3);
      if (line.startsWith(triple, i)) {
        open = triple;
        i += 3;
        continue;
      }
      // A one-line string: skip to its closing quote (escapes honoured).
      i++;
      while (i < line.length && line[i] !== ch) i += line[i] === '\\' ? 2 : 1;
    }
    i++;
  }
  return open;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** The factory's keyword arguments: empty means none; otherwise a JSON object (`{"n_hidden": 64}`). */
export function parseTorchArgs(text: string): Parsed<Record<string, unknown>> {
  const t = text.trim();
  if (t === '') return { ok: true, value: {} };
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch (e) {
    return { ok: false, error: `not valid JSON: ${(e as Error).message}` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return { ok: false, error: 'must be a JSON object of keyword arguments, e.g. {"n_hidden": 64}' };
  const bad = Object.keys(v).find((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
  if (bad !== undefined) return { ok: false, error: `"${bad}" is not a Python keyword argument name` };
  return { ok: true, value: v as Record<string, unknown> };
}

/** Cell submodule names, bottom layer first, comma-separated (`rnn1, rnn2` or `layers.0, layers.1`). */
export function parseCellNames(text: string): Parsed<string[]> {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) return { ok: false, error: 'name at least one cell submodule, e.g. rnn1, rnn2' };
  const bad = names.find((n) => !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/.test(n));
  if (bad !== undefined) return { ok: false, error: `"${bad}" is not a submodule name (such as rnn1 or layers.0)` };
  return { ok: true, value: names };
}

/** A positive whole number typed into an input box (sequence length, input features), within [1, max]. */
export function parseCount(text: string, what: string, max: number): Parsed<number> {
  const n = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max)
    return { ok: false, error: `${what} must be a whole number from 1 to ${max}` };
  return { ok: true, value: n };
}
