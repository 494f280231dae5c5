/**
 * In-host tier: loads the unpacked extension (this repository, built into dist/) into code-server with the
 * in-host suite as `extensionTestsPath`, waits for the suite's results and reports each check as a test.
 */
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeWorkspace, type Fixtures } from './fixtures';
import { launchBrowser, openWorkbench, remoteUri, ROOT, scratchDir, screenshot, startCodeServer, waitFor, workbenchUrl, type CodeServer } from './harness';

const OUT = join(ROOT, 'test-output', 'inhost');
const SUITE_TIMEOUT_MS = 180_000;

interface Result {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

let results: Result[] = [];
let setupError: Error | null = null;

before(async () => {
  const t0 = Date.now();
  mkdirSync(OUT, { recursive: true });
  const tmp = scratchDir('rnn-memory-inhost-');
  const workspace = join(tmp, 'ws');
  mkdirSync(workspace);
  const fx: Fixtures = makeWorkspace(workspace);
  const fixturesFile = join(tmp, 'fixtures.json');
  writeFileSync(fixturesFile, JSON.stringify(fx));
  const resultFile = join(tmp, 'results.json');
  const suite = join(tmp, 'suite.js');
  await build({ entryPoints: [join(__dirname, 'inhost-suite.ts')], outfile: suite, bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], logLevel: 'warning' });
  let cs: CodeServer | null = null;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | null = null;
  try {
    cs = await startCodeServer({
      runDir: join(tmp, 'cs'),
      workspace,
      env: { RNN_MEMORY_INHOST_RESULT: resultFile, RNN_MEMORY_INHOST_FIXTURES: fixturesFile, RNN_MEMORY_EXPORT_DIR: join(tmp, 'exports') },
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
          const r = JSON.parse(readFileSync(resultFile, 'utf8')) as { done: boolean; results: Result[] };
          results = r.results;
          return r.done ? r : null;
        } catch {
          return null;
        }
      },
      SUITE_TIMEOUT_MS,
      300,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; finished so far: ${results.map((r) => r.name).join('; ')}\ncode-server log tail:\n${cs?.log().slice(-3000)}`);
    });
    results = final.results;
    await screenshot(browser.page, OUT, 'inhost.png').catch(() => undefined);
    process.stdout.write(`# in-host tier: ${results.length} checks in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  } catch (e) {
    setupError = e as Error;
    if (browser) await screenshot(browser.page, OUT, 'inhost-failure.png').catch(() => undefined);
  } finally {
    await browser?.close();
    await cs?.stop();
  }
});

after(() => undefined);

describe('extension in a real VS Code (in-host, code-server 4.100.3)', () => {
  test('the in-host suite ran', () => {
    if (setupError) throw setupError;
    if (results.length === 0) throw new Error('the in-host suite reported no results');
  });
  const names = [
    'the extension activates and returns its API',
    'every contributed command is registered, with the RNN Memory category',
    'settings have their documented defaults',
    'the tree lists our model files (header sniffed) and not a foreign safetensors file',
    'an interrupted run on disk is listed after a reload and marked resumable',
    'trainCopyTask with a config argument trains in a worker and saves the run',
    'the new run appears in the tree as completed with its model file',
    'a training panel hidden behind another editor reloads and re-announces ready when shown (no retained context)',
    'stopTraining stops a live run at a step boundary; the run is saved, resumable, and resumeRun finishes it',
    'resumeRun continues the interrupted run from its checkpoint (step 40) to the end',
    'a crashed training worker gives a clear error and the run stays resumable',
    'the custom editor opens a model file and its webview completes the ready handshake',
    'showGradientFlow / showRetention / showBistabilityMap open one panel each for a model argument',
    "exportReport writes the standalone HTML report (the CLI's renderer) with the model's diagnosis",
    'openModel opens a PyTorch state dict (GRU, .safetensors) with answers given as an argument; its report has bistability layers',
    'a foreign model that needs answers fails clearly when none are given and the question is dismissed',
    'compareRuns with two models opens one compare panel',
    'deleteItem removes a run folder (confirmation given) and the tree forgets it',
    'the runsFolder setting changes where runs are listed',
  ];
  for (const name of names) {
    test(name, (t) => {
      if (setupError) throw new Error(`not run: ${setupError.message.split('\n')[0]}`);
      const r = results.find((x) => x.name === name);
      if (!r) throw new Error('the suite did not report this check');
      t.diagnostic(`${r.ms} ms in the extension host`);
      if (!r.ok) throw new Error(r.error);
    });
  }
  test('the suite reported no unexpected checks', () => {
    const extra = results.filter((r) => !names.includes(r.name)).map((r) => r.name);
    if (extra.length) throw new Error(`unlisted checks: ${extra.join('; ')}`);
  });
});
