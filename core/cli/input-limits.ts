/**
 * Limits the CLI checks before it reads or computes anything large: the size of an --input file (checked with
 * stat, before reading or parsing: JSON.parse of a 200 MB file takes gigabytes) and the number of values a
 * trace or diagnosis would keep (refused up front instead of running out of memory or string length). Also the
 * --engine flag, which every command that takes it validates the same way.
 */
import { readFileSync, statSync } from 'node:fs';
import { engineFallbackReason, resolveEngine } from '../engine/index';
import { ENGINE_NAMES, type EngineName, type ResolvedEngine } from '../engine/types';
import type { Architecture } from '../model/architecture';
import { UsageError, type FlagReader } from './args';

/** Default largest --input file, MB (--max-input-mb). */
export const DEFAULT_MAX_INPUT_MB = 64;
/** Default most numbers `trace` writes (--max-values): about 200 MB of JSON, well within one string. */
export const DEFAULT_MAX_TRACE_VALUES = 10_000_000;

/** --engine fast|native|wasm|reference (undefined when absent); anything else is a usage error. */
export function engineFlag(f: FlagReader): EngineName | undefined {
  const v = f.string('engine');
  if (v !== undefined && !(ENGINE_NAMES as readonly string[]).includes(v))
    throw new UsageError(`--engine must be fast, native, wasm or reference (got "${v}")`);
  return v as EngineName | undefined;
}

/**
 * The engine that will run for `wanted` and the line that announces it (`engine: wasm`), with the reason when
 * an engine asked for by name is unavailable. Written once the input passed its size checks, so that a refused
 * input stays a one-line error.
 */
export function engineAnnouncement(wanted: EngineName, arch?: Architecture): { engine: ResolvedEngine; line: string } {
  const engine = resolveEngine(wanted);
  const notes = [engineFallbackReason(wanted)];
  // A user-defined cell runs on its own runtime whatever the engine: say so rather than claim the engine ran it.
  const custom = arch?.layers.flatMap((l, i) => (l.cell === 'custom' ? [i + 1] : [])) ?? [];
  if (custom.length) notes.push(`layer${custom.length > 1 ? 's' : ''} ${custom.join(', ')}: custom cell on its own runtime`);
  const note = notes.filter(Boolean).join('; ');
  return { engine, line: `engine: ${engine}${note ? ` (${note})` : ''}\n` };
}

/** A positive number flag (e.g. --max-input-mb), or `fallback`. */
export function positiveFlag(f: FlagReader, name: string, fallback: number): number {
  const v = f.number(name);
  if (v === undefined) return fallback;
  if (!(v > 0)) throw new UsageError(`--${name} must be a positive number (got ${v})`);
  return v;
}

/** Reads and parses an --input JSON file: size checked first, a leading UTF-8 byte order mark ignored. */
export function readInputJson(path: string, maxMb: number): unknown {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (size > maxMb * 1024 * 1024) {
    throw new Error(
      `${path} is ${(size / 1024 / 1024).toFixed(1)} MB, more than the ${maxMb} MB an input may have; raise the limit with --max-input-mb N`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message.split('\n')[0].slice(0, 160)}`);
  }
}

/** Refuses a pass that would keep more than `max` numbers, saying how to allow it. */
export function checkValueCount(count: number, max: number, what: string): void {
  if (count > max) {
    throw new Error(
      `${what} would produce ${formatCount(count)} values, more than the limit of ${formatCount(max)}; use a smaller input, or raise the limit with --max-values N`,
    );
  }
}

function formatCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} million` : String(n);
}
