/**
 * In-host tier of monitored runs: the unpacked extension in code-server while the user's training script
 * (the Monitor fixture) writes a run in the workspace's runs folder. Skipped, saying why, without Python.
 */
import { test } from 'node:test';
import { skipWithoutPython } from '../helpers/torch-python';
import { describeInHostSuite } from './inhost-runner';
import { makeMonitorWorkspace } from './monitor-fixtures';

const skip = skipWithoutPython('monitor-inhost.test.ts');
if (skip) test('Monitored runs in a real VS Code', { skip }, () => undefined);
else
  describeInHostSuite({
    title: 'Monitored runs in a real VS Code (in-host, code-server 4.100.3)',
    suite: 'monitor-inhost-suite.ts',
    outName: 'monitor-inhost',
    makeWorkspace: makeMonitorWorkspace,
    timeoutMs: 600_000,
    checks: [
      'a script writing a run appears live in the Runs tree, with its step and metrics',
      'the training panel follows its loss: points equal to metrics.jsonl, new ones while the script writes',
      'killed with SIGKILL, the run turns stopped in the tree and in the panel',
      'its snapshots are its children, the steps on disk',
      'Open Diagnostics on a snapshot equals rnn-memory diagnose --run DIR --step N',
      'the training panel gets the Over-training numbers of both diagnosed snapshots',
      'Watch Runs Folder… lists a folder outside the workspace (an empty one as one line), a script writing there live; removing it unlists it',
    ],
  });
