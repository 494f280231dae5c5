/**
 * The pure parts of "Diagnose PyTorch Model…": the factories a .py file defines (checked against Python's own
 * parser, `ast`, on the bridge's fixture and on tricky sources), the keyword-argument, cell-name and count
 * validation, the Python resolution order and the PyTorch model description (core/torch/model-spec.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listFactories, parseCellNames, parseCount, parseTorchArgs } from '../../extension/torch-inputs';
import { chooseDevice, choosePython } from '../../extension/python-path';
import { parseTorchSpec, readTorchSpec, torchSpecLabel, torchSpecShape, torchSpecStamp, torchSpecText } from '../../core/torch/model-spec';
import { skipWithoutPython, TORCH_FIXTURES, torchPython } from '../helpers/torch-python';

const skip = skipWithoutPython('ext-torch-inputs.test.ts');

/** Top-level public functions and classes as Python's ast sees them: [name, kind, line]. */
function astFactories(source: string): [string, string, number][] {
  const script = [
    'import ast, json, sys',
    'tree = ast.parse(sys.stdin.read())',
    'out = []',
    'for n in tree.body:',
    '    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not n.name.startswith("_"):',
    '        kind = "class" if isinstance(n, ast.ClassDef) else "function"',
    '        line = n.lineno',
    '        out.append([n.name, kind, line])',
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync(torchPython.python!, ['-c', script], { input: source, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as [string, string, number][];
}

const TRICKY = [
  'import torch',
  '"""Module docstring',
  'def not_a_factory(x):',
  '"""',
  'x = """one line"""',
  "def real_one(n_hidden=8):  # a comment with ''' in it",
  '    def inner():',
  '        pass',
  '    return inner',
  '',
  'class Model(torch.nn.Module):',
  '    def forward(self, x):',
  "        s = '''",
  'def still_not(x):',
  "'''",
  '        return x',
  '',
  'class Plain:',
  '    pass',
  '',
  'def _private():',
  '    pass',
  '',
  'async def later(x):',
  '    return x',
  '',
  '@decorated',
  'def wrapped(x):',
  '    return x',
  "y = 'def fake(x):'",
].join('\n');

test('listFactories finds what Python defines at top level (the bridge fixture and a tricky source)', { skip }, () => {
  for (const source of [readFileSync(join(TORCH_FIXTURES, 'models.py'), 'utf8'), TRICKY]) {
    const mine = listFactories(source).map((f) => [f.name, f.kind, f.line]);
    const theirs = astFactories(source);
    // ast gives a decorated function's line as its `def` line (Python 3.8+), as the text scan does.
    assert.deepEqual(mine, theirs);
    assert.ok(mine.length >= 4, 'the sources define several factories');
  }
  assert.deepEqual(
    listFactories(TRICKY).map((f) => f.name),
    ['real_one', 'Model', 'Plain', 'later', 'wrapped'],
  );
});

test('parseTorchArgs: empty is none, a JSON object of Python names is kept, anything else is one clear error', () => {
  assert.deepEqual(parseTorchArgs('  '), { ok: true, value: {} });
  assert.deepEqual(parseTorchArgs('{"n_hidden": 64, "cell": "nbrc"}'), { ok: true, value: { n_hidden: 64, cell: 'nbrc' } });
  const bad = (t: string) => {
    const r = parseTorchArgs(t);
    assert.equal(r.ok, false, t);
    return (r as { error: string }).error;
  };
  assert.match(bad('{n_hidden: 64}'), /^not valid JSON: /);
  assert.match(bad('[64]'), /must be a JSON object of keyword arguments/);
  assert.match(bad('64'), /must be a JSON object/);
  assert.match(bad('null'), /must be a JSON object/);
  assert.equal(bad('{"n-hidden": 1}'), '"n-hidden" is not a Python keyword argument name');
});

test('parseCellNames and parseCount', () => {
  assert.deepEqual(parseCellNames(' rnn1, layers.0 ,'), { ok: true, value: ['rnn1', 'layers.0'] });
  assert.equal(parseCellNames('').ok, false);
  assert.deepEqual(parseCellNames('rnn 1'), { ok: false, error: '"rnn 1" is not a submodule name (such as rnn1 or layers.0)' });
  assert.deepEqual(parseCount(' 12 ', 'T', 100), { ok: true, value: 12 });
  for (const t of ['0', '-3', '1.5', '101', 'abc', '']) assert.equal(parseCount(t, 'T', 100).ok, false, t);
});

test('the Python is the setting, else the Python extension’s interpreter, else python3', () => {
  assert.deepEqual(choosePython('/opt/py/bin/python', '/venv/bin/python'), { python: '/opt/py/bin/python', source: 'setting' });
  assert.deepEqual(choosePython('   ', '/venv/bin/python'), { python: '/venv/bin/python', source: 'python-extension' });
  assert.deepEqual(choosePython(undefined, undefined), { python: 'python3', source: 'default' });
  assert.deepEqual(choosePython(42, ''), { python: 'python3', source: 'default' });
  assert.equal(chooseDevice('cuda'), 'cuda');
  assert.equal(chooseDevice('gpu'), 'cpu');
});

test('a PyTorch model description: validated, round-tripped through its file, labelled, stamped by its files', () => {
  const d = mkdtempSync(join(tmpdir(), 'torch-spec-'));
  try {
    const py = join(d, 'm.py');
    const w = join(d, 'w.pt');
    writeFileSync(py, 'def f():\n    pass\n');
    writeFileSync(w, 'x');
    const spec = parseTorchSpec({ file: py, name: 'f', weights: w, args: { n: 2 }, task: { name: 'denoise', T: 30 } });
    const path = join(d, 'm.f.torchmodel.json');
    writeFileSync(path, torchSpecText(spec));
    assert.deepEqual(readTorchSpec(path), spec);
    assert.equal(torchSpecLabel(spec), 'm.py:f (w.pt)');
    assert.deepEqual(torchSpecShape(spec), { inputSize: 2, activation: 'linear', task: { name: 'denoise', T: 30 } });
    assert.deepEqual(torchSpecShape(parseTorchSpec({ file: py, name: 'f', inputSize: 3 })), { inputSize: 3, activation: 'linear' });
    const before = torchSpecStamp(spec);
    utimesSync(py, new Date(2000, 1, 1), new Date(2000, 1, 1));
    assert.notEqual(torchSpecStamp(spec), before, 'an edited .py file is another model version');
    const refuse = (o: Record<string, unknown>, re: RegExp) => assert.throws(() => parseTorchSpec(o, 'arg'), re);
    refuse({ file: 'm.py', name: 'f', inputSize: 1 }, /^Error: arg: "file" must be the absolute path of a \.py file$/);
    refuse({ file: py, name: 'f()', inputSize: 1 }, /"name" must be a Python identifier/);
    refuse({ file: py, name: 'f', weights: join(d, 'w.bin'), inputSize: 1 }, /"weights" must be/);
    refuse({ file: py, name: 'f', args: [], inputSize: 1 }, /"args" must be a JSON object/);
    refuse({ file: py, name: 'f', cells: ['a b'], inputSize: 1 }, /"cells" must be a list/);
    refuse({ file: py, name: 'f', task: { name: 'parity' } }, /"task.name" must be copy, denoise or smnist/);
    refuse({ file: py, name: 'f', task: { name: 'copy', T: 0 } }, /"task.T" must be an integer/);
    refuse({ file: py, name: 'f' }, /give either "task" or "inputSize"/);
    refuse({ file: py, name: 'f', inputSize: 1, task: { name: 'copy' } }, /give either "task" or "inputSize"/);
    writeFileSync(path, '{"format": "something-else"}');
    assert.throws(() => readTorchSpec(path), /not a PyTorch model description/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
