/**
 * In-host checks in Restricted Mode (workspace not trusted): hostile model files opened the way a user
 * opens them give one clear error each, run nothing, write nothing next to the model, and leave the
 * extension host's memory within its bound.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RnnMemoryApi } from '../../extension/extension';
import type { TreeNode } from '../../extension/tree-items';
import type { HostileFile } from '../helpers/hostile-files';
import { ANSWERS, HOST_MEMORY_BOUND_MB, hostileCheckName, MONITORED_CHECK } from './restricted-checks';
import type { MonitoredFixture } from './restricted-monitored';
import { assert, suiteResults } from './suite-results';

export interface RestrictedFixtures {
  workspace: string;
  /** The hostile files, with `error` as a case-insensitive pattern's source (JSON has no RegExp). */
  hostile: (Omit<HostileFile, 'error'> & { error: string | null })[];
  monitored: MonitoredFixture;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const EXTENSION_ID = 'rnn-memory-lens.rnn-memory-lens';

async function waitFor(what: string, fn: () => unknown, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

export async function run(): Promise<void> {
  const resultFile = process.env.RNN_MEMORY_INHOST_RESULT!;
  const fx = JSON.parse(readFileSync(process.env.RNN_MEMORY_INHOST_FIXTURES!, 'utf8')) as RestrictedFixtures;
  const { check, finish } = suiteResults(resultFile, 120_000);
  let api: RnnMemoryApi | undefined;
  await check('the workspace is in Restricted Mode and the extension activates', async () => {
    assert(vscode.workspace.isTrusted === false, 'the workspace is trusted: the suite must run in Restricted Mode');
    const ext = vscode.extensions.getExtension<RnnMemoryApi>(EXTENSION_ID);
    assert(ext, `extension ${EXTENSION_ID} is not installed`);
    api = await ext.activate();
    assert(typeof api?.treeNodes === 'function', 'activate() did not return the API');
  });
  if (!api) {
    finish();
    return;
  }
  const a = api;
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const poll = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  for (const h of fx.hostile) {
    await check(hostileCheckName(h), async () => {
      const before = new Map((h.mustNotChange ?? []).map((f) => [f, readFileSync(f)] as const));
      const shown = a.errorsShown().length;
      const uri = vscode.Uri.file(h.path);
      if (h.error) {
        // Not awaited: the notification is what the user sees, whenever the editor settles.
        void Promise.resolve(vscode.commands.executeCommand('rnnMemory.openModel', uri, { answers: ANSWERS })).catch(() => undefined);
        await waitFor(`an error notification for ${h.kind}`, () => a.errorsShown().length > shown, 90_000);
        await sleep(1500); // a second notification for the same failure would arrive by now
        const errors = a.errorsShown().slice(shown);
        assert(errors.length === 1, `${errors.length} error notifications: ${JSON.stringify(errors)}`);
        const msg = errors[0];
        assert(new RegExp(h.error, 'i').test(msg), `the notification does not say what is wrong (expected /${h.error}/i): ${msg}`);
        assert(
          !/\n\s+at |Maximum call stack|Invalid (typed array|string) length|Array buffer allocation failed/.test(msg),
          `engine message or stack trace in the notification: ${msg}`,
        );
        assert(msg.length < 600, `notification is ${msg.length} characters long`);
      } else {
        await vscode.commands.executeCommand('rnnMemory.openModel', uri, { answers: ANSWERS });
        const out = join(fx.workspace, `${h.kind}-report.html`);
        await vscode.commands.executeCommand('rnnMemory.exportReport', uri, out);
        assert(existsSync(out), `no report was written for ${h.kind}`);
        const errors = a.errorsShown().slice(shown);
        assert(errors.length === 0, `error notifications: ${JSON.stringify(errors)}`);
      }
      for (const f of h.mustNotExist ?? []) assert(!existsSync(f), `${f} exists: code from the file ran`);
      for (const [f, bytes] of before) assert(readFileSync(f).equals(bytes), `${f} was overwritten`);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });
  }
  await check(`the extension host's memory grew by less than ${HOST_MEMORY_BOUND_MB} MB while opening them`, async () => {
    clearInterval(poll);
    const grew = (peak - rss0) / 2 ** 20;
    assert(grew < HOST_MEMORY_BOUND_MB, `resident memory grew by ${grew.toFixed(0)} MB`);
  });
  await check(MONITORED_CHECK, async () => {
    const m = fx.monitored;
    const snapshot = (nodes: readonly TreeNode[]): TreeNode | undefined =>
      nodes.map((n) => (n.path === join(m.run, 'snapshots', 'step-00000010.safetensors') ? n : snapshot(n.children ?? []))).find(Boolean);
    await waitFor('the monitored run’s snapshot in the tree', () => snapshot(a.treeNodes()), 60_000);
    const row = snapshot(a.treeNodes())!;
    assert(row.contextValue === 'snapshot' && row.command?.command === 'rnnMemory.openSnapshotDiagnostics', JSON.stringify(row));
    const panels = a.panels().length;
    const r = await vscode.commands.executeCommand(row.command.command, ...row.command.args);
    assert(r === undefined, `the command returned ${String(r)}`);
    await sleep(3000); // a diagnosis, had one started, would have imported the model file by now
    assert(!existsSync(m.marker), 'the model’s Python file ran');
    assert(a.panels().length === panels, 'a panel opened');
  });
  finish();
}
