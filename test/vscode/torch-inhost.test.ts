/**
 * In-host tier of "Diagnose PyTorch Model…": the unpacked extension in code-server, a workspace with a
 * PyTorch model and rnnMemory.python.path naming a Python with torch. Skipped, saying why, without Python.
 */
import { test } from 'node:test';
import { skipWithoutPython } from '../helpers/torch-python';
import { describeInHostSuite } from './inhost-runner';
import { makeTorchWorkspace } from './torch-fixtures';

const skip = skipWithoutPython('torch-inhost.test.ts');
if (skip) test('Diagnose PyTorch Model in a real VS Code', { skip }, () => undefined);
else
  describeInHostSuite({
    title: 'Diagnose PyTorch Model in a real VS Code (in-host, code-server 4.100.3)',
    suite: 'torch-inhost-suite.ts',
    outName: 'torch-inhost',
    makeWorkspace: makeTorchWorkspace,
    timeoutMs: 600_000,
    checks: [
      'the command is contributed for trusted workspaces, in the palette and on .py files in the Explorer',
      'diagnoses models.py:gru_model with its weights and opens its report in the model editor',
      'the Inspector describes the PyTorch model: one custom 6-unit layer, the whole module’s parameters',
      'Show Bistability Map, Compare Runs and Export Report work on it like on any model',
      'Python not found: a notification naming the setting (action: Select Python Interpreter)',
      'an exception in the user’s factory: its file:line and message',
      'ambiguous cells: says so without CLI flags (action: Enter Cell Names)',
      'weights that do not match the module: PyTorch’s own missing/unexpected keys',
      'cells named by the user are used (the ambiguous model with cells: left)',
    ],
  });
