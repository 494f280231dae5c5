/**
 * In-host checks of monitored runs (trusted workspace, real VS Code API, a real training script): the run
 * listed live from its heartbeat, the training panel growing from metrics.jsonl, stopped after SIGKILL, its
 * snapshots, a snapshot diagnosed equal to the CLI's `diagnose --run`, and a watched folder outside the
 * workspace.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { RnnMemoryApi } from '../../extension/extension';
import type { TreeNode } from '../../extension/tree-items';
import type { MonitorFixtures } from './monitor-fixtures';
import { assert, suiteResults } from './suite-results';

const EXTENSION_ID = 'rnn-memory-lens.rnn-memory-lens';

async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function find(nodes: readonly TreeNode[], pred: (n: TreeNode) => boolean): TreeNode | undefined {
  for (const n of nodes) {
    if (pred(n)) return n;
    const c = find(n.children ?? [], pred);
    if (c) return c;
  }
  return undefined;
}

/** metrics.jsonl parsed here, independently of the extension's tail reader. */
function metricsOnDisk(run: string): { step: number; trainLoss?: number; metric?: number }[] {
  return readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.endsWith('}'))
    .map((l) => JSON.parse(l) as { step: number; trainLoss?: number; metric?: number });
}

/** A report without what differs between two diagnoses of the same weights: when, how long, which file named the model, and how advice is worded. */
function numbers(report: unknown): unknown {
  const o = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
  delete o.timings;
  delete o.createdAt;
  delete o.model;
  // The advice in a sentence names the setting in VS Code and the flag in the CLI; the rest of it must agree.
  for (const d of o.diagnosis as { text?: string }[]) delete d.text;
  return o;
}

/** The path of the first value that differs between two JSON values, with both values; null when equal. */
function firstDifference(x: unknown, y: unknown, path = ''): string | null {
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null)
    return Object.is(x, y) ? null : `${path}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`;
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  for (const k of keys) {
    const d = firstDifference((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

function diagnosisFile(runDir: string, step: number): string {
  return join(runDir, 'diagnoses', `step-${String(step).padStart(8, '0')}.json`);
}

/** `rnn-memory diagnose --run DIR --step N`, written where the Monitor's diagnose_every writes it; the report. */
function diagnoseRun(fx: MonitorFixtures, runDir: string, step: number): Record<string, unknown> {
  const out = diagnosisFile(runDir, step);
  mkdirSync(dirname(out), { recursive: true });
  const cli = spawnSync(
    process.execPath,
    [fx.cli, 'diagnose', '--run', runDir, '--step', String(step), '--python', fx.python, '--out', out, '--quiet'],
    {
      encoding: 'utf8',
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    },
  );
  assert(cli.status === 0, `the CLI failed: ${cli.stderr}`);
  return JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
}

export async function run(): Promise<void> {
  const fx = JSON.parse(readFileSync(process.env.RNN_MEMORY_INHOST_FIXTURES!, 'utf8')) as MonitorFixtures;
  const { check, finish } = suiteResults(process.env.RNN_MEMORY_INHOST_RESULT!, 420_000);
  const ext = vscode.extensions.getExtension<RnnMemoryApi>(EXTENSION_ID);
  const a = await ext!.activate();
  const runDir = join(a.runsDir(), 'live');
  let script: ChildProcess | undefined;
  let node: TreeNode | undefined;
  const runNode = () => find(a.treeNodes(), (n) => n.kind === 'run' && n.path === runDir);

  await check('a script writing a run appears live in the Runs tree, with its step and metrics', async () => {
    script = spawn(
      fx.python,
      [fx.script, runDir, '--steps', '100000', '--every', '20', '--keep-last', '3', '--sleep', '0.02', '--heartbeat', '1'],
      { env: { ...process.env, PYTHONPATH: fx.pythonPath, PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    script.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let seen = '';
    node = await waitFor('the run to be listed live with a loss', () => {
      seen = JSON.stringify(a.treeNodes().map((g) => [g.id, g.children?.map((c) => [c.label, c.contextValue, c.description])]));
      const n = runNode();
      return n?.contextValue === 'monitoredRun;live' &&
        /^live · step \d+ · loss [\d.e-]+ · mse [\d.e-]+ · \d+ snapshots?$/.test(n.description ?? '')
        ? n
        : null;
    }).catch((e: Error) => {
      throw new Error(`${e.message}; the tree: ${seen}; the script's stderr: ${stderr.slice(-1500)}`);
    });
    assert(node.label === 'live', `label ${node.label}`);
    assert(node.icon === 'pulse', `icon ${node.icon}`);
  });

  await check('the training panel follows its loss: points equal to metrics.jsonl, new ones while the script writes', async () => {
    assert(node?.runId, 'no run node');
    const id = node.runId;
    const shown = await vscode.commands.executeCommand<{ title: string }>('rnnMemory.showTraining', id);
    assert(shown?.title === 'Training: live', `title ${shown?.title}`);
    const panel = await waitFor('the training panel', () => a.panels().find((p) => p.title === shown.title && p.ready));
    const first = a.trainingSnapshot(id)!;
    assert(first.status === 'running', `status ${first.status}`);
    const n0 = first.points.length;
    const later = await waitFor('new points', () => {
      const s = a.trainingSnapshot(id);
      return s && s.points.length >= n0 + 20 ? s : null;
    });
    const disk = metricsOnDisk(runDir);
    const losses = later.points.map((p) => p.loss);
    assert(
      JSON.stringify(losses) === JSON.stringify(disk.slice(0, losses.length).map((l) => l.trainLoss)),
      'the panel’s losses are not those of metrics.jsonl',
    );
    assert(
      later.points.some((p) => p.metric !== undefined),
      'no test metric point',
    );
    // What the panel was sent (what its chart draws) grows too, and matches the store.
    const posted = await waitFor('the panel to be sent the new points', () => {
      const t = a.panels().find((p) => p.title === panel.title)?.training;
      return t && t.points.length >= later.points.length ? t : null;
    });
    assert(posted.points.length > n0, `the panel was sent ${posted.points.length} points, ${n0} at first`);
    // Three snapshots (steps 20, 40, 60) before the kill: the keep policy's last three.
    await waitFor('the script to pass step 60', () => (a.trainingSnapshot(id)?.step ?? 0) >= 60, 240_000);
  });

  await check('killed with SIGKILL, the run turns stopped in the tree and in the panel', async () => {
    assert(script && node?.runId, 'no script');
    const exited = new Promise((r) => script!.once('exit', r));
    script.kill('SIGKILL');
    await exited;
    node = await waitFor('the run to turn stopped', () => {
      const n = runNode();
      return n?.contextValue === 'monitoredRun;stopped' ? n : null;
    });
    assert(node.description?.startsWith('stopped · step '), `description ${node.description}`);
    const id = node.runId!;
    await waitFor('the panel’s run to be stopped', () => a.trainingSnapshot(id)?.status === 'stopped');
  });

  let step = 0;
  await check('its snapshots are its children, the steps on disk', async () => {
    const onDisk = readdirSync(join(runDir, 'snapshots'))
      .map((f) => /^step-(\d+)\.safetensors$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((x, y) => y - x);
    const shown = node!.children!.filter((c) => c.contextValue === 'snapshot').map((c) => Number(c.label.replace('step ', '')));
    assert(JSON.stringify(shown) === JSON.stringify(onDisk), `tree ${shown.join(',')} vs disk ${onDisk.join(',')}`);
    assert(onDisk.length === 3, `keep_last 3 kept ${onDisk.length}`);
    const rows = node!.children!.filter((c) => c.contextValue === 'snapshot');
    assert(
      rows.every((c) => c.command?.command === 'rnnMemory.openSnapshotDiagnostics'),
      'a snapshot row does not open diagnostics',
    );
    step = onDisk[1];
  });

  await check('Open Diagnostics on a snapshot equals rnn-memory diagnose --run DIR --step N', async () => {
    const snap = node!.children!.find((c) => c.label === `step ${step}`)!;
    assert(snap.command?.command === 'rnnMemory.openSnapshotDiagnostics', `click ${JSON.stringify(snap.command)}`);
    const path = await vscode.commands.executeCommand<string>(snap.command.command, ...snap.command.args);
    assert(typeof path === 'string' && path.endsWith('.torchmodel.json'), `returned ${path}`);
    await waitFor('the model editor of the snapshot', () =>
      a.panels().find((p) => p.kind === 'editor' && (p.target as { path?: string }).path === path && p.ready),
    );
    const inHost = await a.diagnosis(path);
    const viaCli = diagnoseRun(fx, runDir, step);
    const diff = firstDifference(numbers(inHost), numbers(viaCli));
    assert(diff === null, `the reports differ at ${diff}`);
    assert((viaCli.input as { T: number }).T === 6, 'not the run’s task (copy, T = 6)');
  });

  await check('the training panel gets the Over-training numbers of both diagnosed snapshots', async () => {
    // As the Monitor's diagnose_every does: the CLI writes diagnoses/step-N.json; the first is there already.
    const newest = Number(node!.children!.find((c) => c.contextValue === 'snapshot')!.label.replace('step ', ''));
    diagnoseRun(fx, runDir, newest);
    const avg = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    const expected = [step, newest]
      .sort((x, y) => x - y)
      .map((n) => {
        const r = JSON.parse(readFileSync(diagnosisFile(runDir, n), 'utf8')) as {
          bistability: { layers: { fractionBistable: number[] }[] };
          gradientFlow: { layers: { decay: { endRatio: { value: number } } }[] };
        };
        return {
          step: n,
          fractionBistable: r.bistability.layers.map((l) => avg(l.fractionBistable)),
          endRatio: r.gradientFlow.layers.map((l) => l.decay.endRatio.value),
        };
      });
    const drawn = await waitFor('the panel to be sent two diagnosed steps', () => {
      const d = a.panels().find((p) => p.title === 'Training: live')?.training?.diagnosed ?? [];
      return d.length >= 2 ? d : null;
    });
    const got = drawn.map((d) => ({
      step: d.step,
      fractionBistable: d.fractionBistable,
      endRatio: d.gradientEndRatio.map((e) => e?.value),
    }));
    assert(JSON.stringify(got) === JSON.stringify(expected), `drawn ${JSON.stringify(got)}, reports ${JSON.stringify(expected)}`);
  });

  await check(
    'Watch Runs Folder… lists a folder outside the workspace (an empty one as one line), a script writing there live; removing it unlists it',
    async () => {
      await vscode.commands.executeCommand('rnnMemory.watchRunsFolder', fx.watched);
      await vscode.commands.executeCommand('rnnMemory.watchRunsFolder', fx.empty);
      const group = await waitFor('the watched folder in the tree', () => a.treeNodes().find((n) => n.id === `watched:${fx.watched}`));
      const done = group.children?.[0];
      assert(done?.label === 'done' && done.contextValue === 'monitoredRun;completed', `child ${done?.label} ${done?.contextValue}`);
      assert(
        done.children!.some((c) => c.contextValue === 'snapshot'),
        'no snapshots under the watched run',
      );
      const empty = a.treeNodes().find((n) => n.id === `watched:${fx.empty}`);
      assert(
        empty?.children?.length === 1 && empty.children[0].label === 'empty holds no runs (a run folder has run.json)',
        JSON.stringify(empty?.children),
      );
      // A script that starts writing into the watched folder (as one syncing from a GPU machine would): listed
      // live there, then stopped once killed.
      const remote = join(fx.watched, 'remote');
      const writer = spawn(fx.python, [fx.script, remote, '--steps', '100000', '--every', '20', '--sleep', '0.02', '--heartbeat', '1'], {
        env: { ...process.env, PYTHONPATH: fx.pythonPath, PYTHONDONTWRITEBYTECODE: '1' },
        stdio: 'ignore',
      });
      try {
        const watchedRun = () => find(a.treeNodes(), (n) => n.kind === 'run' && n.path === remote);
        await waitFor('the new run in the watched folder to be listed live with a step', () => {
          const n = watchedRun();
          return n?.contextValue === 'monitoredRun;live' && /^live · step [1-9]\d* /.test(n.description ?? '') ? n : null;
        });
        writer.kill('SIGKILL');
        await waitFor('the killed run to turn stopped', () => watchedRun()?.contextValue === 'monitoredRun;stopped', 30_000);
      } finally {
        writer.kill('SIGKILL');
      }
      assert((await vscode.commands.executeCommand<boolean>('rnnMemory.unwatchRunsFolder', group)) === true, 'not removed');
      await waitFor('the folder to leave the tree', () => !a.treeNodes().some((n) => n.id === `watched:${fx.watched}`));
    },
  );
  script?.kill('SIGKILL');
  finish();
}
