/**
 * Runs an in-host suite (a file exporting `run()`, bundled to JS and loaded by VS Code as
 * `extensionTestsPath`) in code-server with this repository as the unpacked extension, waits for the
 * suite's results file and turns each named check into a node:test test.
 */
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import {
  launchBrowser,
  openWorkbench,
  remoteUri,
  ROOT,
  scratchDir,
  screenshot,
  startCodeServer,
  waitFor,
  workbenchUrl,
  type CodeServer,
} from './harness';

export interface InHostResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface InHostSuite {
  /** Label of the describe block. */
  title: string;
  /** The suite's source (TypeScript), relative to test/vscode. */
  suite: string;
  /** Screenshot and output folder name under test-output/. */
  outName: string;
  /** Fills the workspace folder; returns what the suite reads from RNN_MEMORY_INHOST_FIXTURES. */
  makeWorkspace(dir: string): unknown;
  /** Every check the suite must report, by name. */
  checks: readonly string[];
  trusted?: boolean;
  timeoutMs?: number;
  /** An existing folder to open as the workspace (default: a new one under the suite's scratch folder). */
  workspaceDir?: string;
}

/** Declares the node:test tests of an in-host suite (call at module top level). */
export function describeInHostSuite(s: InHostSuite): void {
  const out = join(ROOT, 'test-output', s.outName);
  let results: InHostResult[] = [];
  let setupError: Error | null = null;

  before(async () => {
    const t0 = Date.now();
    mkdirSync(out, { recursive: true });
    const tmp = scratchDir(`rnn-memory-${s.outName}-`);
    const workspace = s.workspaceDir ?? join(tmp, 'ws');
    mkdirSync(workspace, { recursive: true });
    const fixturesFile = join(tmp, 'fixtures.json');
    writeFileSync(fixturesFile, JSON.stringify(s.makeWorkspace(workspace)));
    const resultFile = join(tmp, 'results.json');
    const suite = join(tmp, 'suite.js');
    await build({
      entryPoints: [join(__dirname, s.suite)],
      outfile: suite,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['vscode'],
      logLevel: 'warning',
    });
    let cs: CodeServer | null = null;
    let browser: Awaited<ReturnType<typeof launchBrowser>> | null = null;
    try {
      cs = await startCodeServer({
        runDir: join(tmp, 'cs'),
        workspace,
        trusted: s.trusted,
        env: {
          RNN_MEMORY_INHOST_RESULT: resultFile,
          RNN_MEMORY_INHOST_FIXTURES: fixturesFile,
          RNN_MEMORY_EXPORT_DIR: join(tmp, 'exports'),
        },
      });
      browser = await launchBrowser();
      const url = workbenchUrl(cs, workspace, [
        ['extensionDevelopmentPath', remoteUri(cs, ROOT)],
        ['extensionTestsPath', remoteUri(cs, suite)],
      ]);
      await openWorkbench(browser.page, url);
      const final = await waitFor(
        'the in-host suite to finish (results file done=true)',
        () => {
          if (!existsSync(resultFile)) return null;
          try {
            const r = JSON.parse(readFileSync(resultFile, 'utf8')) as { done: boolean; results: InHostResult[] };
            results = r.results;
            return r.done ? r : null;
          } catch {
            return null;
          }
        },
        s.timeoutMs ?? 180_000,
        300,
      ).catch((e: Error) => {
        throw new Error(
          `${e.message}; finished so far: ${results.map((r) => r.name).join('; ')}\ncode-server log tail:\n${cs?.log().slice(-3000)}`,
        );
      });
      results = final.results;
      await screenshot(browser.page, out, `${s.outName}.png`).catch(() => undefined);
      process.stdout.write(`# ${s.outName}: ${results.length} checks in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (e) {
      setupError = e as Error;
      if (browser) await screenshot(browser.page, out, `${s.outName}-failure.png`).catch(() => undefined);
    } finally {
      await browser?.close();
      await cs?.stop();
    }
  });

  describe(s.title, () => {
    test('the in-host suite ran', () => {
      if (setupError) throw setupError;
      if (results.length === 0) throw new Error('the in-host suite reported no results');
    });
    for (const name of s.checks) {
      test(name, (t) => {
        const r = results.find((x) => x.name === name);
        if (!r && setupError) throw new Error(`not run: ${setupError.message.split(';')[0].slice(0, 300)}`);
        if (!r) throw new Error('the suite did not report this check');
        t.diagnostic(`${r.ms} ms in the extension host`);
        if (!r.ok) throw new Error(r.error);
      });
    }
    test('the suite reported no unexpected checks', () => {
      const extra = results.filter((r) => !s.checks.includes(r.name)).map((r) => r.name);
      if (extra.length) throw new Error(`unlisted checks: ${extra.join('; ')}`);
    });
  });
}
