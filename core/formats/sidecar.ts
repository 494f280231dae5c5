/** Remembered answers next to a model: `<model file>.rnnmemory.json` = {"version": 1, "answers": {key: value}}. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ArchitectureAnswers } from './errors';

export function sidecarPath(modelPath: string): string {
  return `${modelPath}.rnnmemory.json`;
}

/** The stored answers, or {} when there is no readable sidecar (a broken one is reported, not fatal). */
export function readSidecar(modelPath: string, warnings: string[]): ArchitectureAnswers {
  const p = sidecarPath(modelPath);
  if (!existsSync(p)) return {};
  try {
    const j = JSON.parse(readFileSync(p, 'utf8')) as { answers?: unknown };
    const a = j.answers;
    if (typeof a !== 'object' || a === null || Array.isArray(a)) throw new Error('no "answers" object');
    const out: ArchitectureAnswers = {};
    for (const [k, v] of Object.entries(a)) if (typeof v === 'string') out[k] = v;
    return out;
  } catch (e) {
    warnings.push(`ignoring ${p}: ${(e as Error).message}`);
    return {};
  }
}

export function writeSidecar(modelPath: string, answers: ArchitectureAnswers): void {
  const body = { version: 1, note: 'RNN Memory Lens: answers about this model that its file does not record', answers };
  writeFileSync(sidecarPath(modelPath), JSON.stringify(body, null, 2) + '\n');
}
