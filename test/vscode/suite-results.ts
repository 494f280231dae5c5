/**
 * What an in-host suite reports: each check's result appended to the JSON file the driver
 * (inhost-runner.ts) polls, `{done, results}`, rewritten after every check.
 */
import { writeFileSync } from 'node:fs';
import type { InHostResult } from './inhost-runner';

export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

/** `check` runs one named check (failing it after `timeoutMs` when given); `finish` marks the suite done. */
export function suiteResults(
  resultFile: string,
  timeoutMs?: number,
): { check(name: string, fn: () => Promise<void>): Promise<void>; finish(): void } {
  const results: InHostResult[] = [];
  const flush = (done: boolean) => writeFileSync(resultFile, JSON.stringify({ done, results }, null, 1));
  flush(false);
  const bounded = async (fn: () => Promise<void>) => {
    if (timeoutMs === undefined) return fn();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`no result within ${timeoutMs / 1000} s`)), timeoutMs)),
    );
    return Promise.race([fn(), limit]).finally(() => clearTimeout(timer));
  };
  return {
    async check(name, fn) {
      const t0 = Date.now();
      try {
        await bounded(fn);
        results.push({ name, ok: true, ms: Date.now() - t0 });
      } catch (e) {
        results.push({ name, ok: false, ms: Date.now() - t0, error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) });
      }
      flush(false);
    },
    finish: () => flush(true),
  };
}
