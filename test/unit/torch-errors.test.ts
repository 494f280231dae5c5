/**
 * Every failure of a PyTorch model through the CLI is one line on stderr (no stack trace), and no helper
 * process is left running: Python not found, torch missing or too old, an exception or a syntax error in the
 * user's file, output shapes that do not fit, weights that do not match, a helper that dies or hangs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { skipWithoutPython, TORCH_FIXTURES, torchPython } from '../helpers/torch-python';

const skip = skipWithoutPython('torch-errors.test.ts');
const python = torchPython.python ?? 'python3';
const MODELS = join(TORCH_FIXTURES, 'models.py');

/** Live (not zombie) children of this process running the helper script. */
function helperChildren(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && state !== 'Z' && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('rnn_memory_bridge.py'))
        out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Runs diagnose on a PyTorch model and returns the one error line (asserting exit code 1 and no leftovers). */
async function failure(target: string, extra: string[] = [], env: Record<string, string> = {}): Promise<string> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const res = await runCli(['diagnose', '--torch', target, '--python', python, '--task', 'copy', '--T', '6', '--batch', '4', ...extra]);
    assert.equal(res.code, 1, res.stderr);
    const lines = res.stderr.trim().split('\n');
    assert.match(lines[0], /^running .* in .*rnn_memory_bridge\.py, device cpu\)$/);
    assert.equal(lines.length, 2, res.stderr);
    assert.doesNotMatch(lines[1], /\bat .*\.ts:\d+|Traceback/);
    // A killed process takes a moment to go: wait up to 3 s for it.
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 30 && helperChildren().length > 0; i++) Atomics.wait(pause, 0, 0, 100);
    assert.deepEqual(helperChildren(), [], 'a helper process is still running');
    return lines[1];
  } finally {
    process.env = saved;
  }
}

test('Python not found', { skip }, async () => {
  const res = await runCli(['diagnose', '--torch', `${MODELS}:gru_model`, '--python', '/nonexistent/python3', '--task', 'copy']);
  assert.equal(res.code, 1);
  assert.match(
    res.stderr.trim().split('\n')[1],
    /^rnn-memory: Python not found: "\/nonexistent\/python3" \(give --python, set RNN_MEMORY_PYTHON, or install python3\)$/,
  );
});

test('torch missing, torch too old', { skip }, async () => {
  assert.match(
    await failure(`${MODELS}:gru_model`, [], { PYTHONPATH: join(TORCH_FIXTURES, 'fake-torch-missing') }),
    /^rnn-memory: PyTorch is not installed for .*python.* \(pip install torch; needs torch >= 2\.0\)$/,
  );
  assert.match(
    await failure(`${MODELS}:gru_model`, [], { PYTHONPATH: join(TORCH_FIXTURES, 'fake-torch-old') }),
    /^rnn-memory: torch 1\.13\.1 is too old for .*: needs torch >= 2\.0$/,
  );
});

test('an exception or a syntax error in the user file: its file:line and message', { skip }, async () => {
  const line =
    readFileSync(MODELS, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('["missing"]')) + 1;
  assert.ok(line > 0);
  assert.equal(await failure(`${MODELS}:raises`), `rnn-memory: ${MODELS}:${line}: KeyError: 'missing'`);
  assert.match(await failure(`${join(TORCH_FIXTURES, 'broken.py')}:make`), /^rnn-memory: .*broken\.py:4: SyntaxError: /);
  assert.match(
    await failure(`${MODELS}:no_such_factory`),
    /^rnn-memory: .*models\.py defines no no_such_factory \(it defines: .*brc_stack.*gru_model.*\)$/,
  );
});

test('output shapes that do not fit: not a tensor, and more outputs than the task has', { skip }, async () => {
  assert.equal(
    await failure(`${MODELS}:misbehaving`, ['--torch-args', '{"mode": "tuple"}']),
    "rnn-memory: the model's forward returned a tuple; it must return a tensor [B, out] or [B, T, out]",
  );
  assert.match(
    await failure(`${MODELS}:lstm_model`, ['--torch-args', '{"n_out": 2}']),
    /^rnn-memory: task copy gives 1 input and 1 linear output read from h_T, but the model has 1 input and 2 linear outputs; give an explicit input instead$/,
  );
});

test("weights that do not match the module: PyTorch's own missing/unexpected keys", { skip }, async () => {
  const pt = join(TORCH_FIXTURES, 'gru-weights.pt');
  const msg = await failure(`${MODELS}:lstm_model`, ['--weights', pt]);
  assert.match(
    msg,
    /^rnn-memory: weights .*gru-weights\.pt do not match the module: Error\(s\) in loading state_dict for LSTMWrap: Missing key\(s\) in state_dict: "rnn\.weight_ih".* Unexpected key\(s\) in state_dict: "cell\.ih\.weight"/,
  );
});

test('a helper that dies, and one that hangs, is reported and nothing is left running', { skip }, async () => {
  assert.match(
    await failure(`${MODELS}:misbehaving`, ['--torch-args', '{"mode": "die"}']),
    /^rnn-memory: the PyTorch helper died \(exit code 3\)$/,
  );
  assert.equal(
    await failure(`${MODELS}:misbehaving`, ['--torch-args', '{"mode": "hang"}', '--torch-timeout', '3']),
    'rnn-memory: the PyTorch helper did not answer "open" within 3 s and was stopped',
  );
});

test('--device cuda without CUDA, and usage errors of the PyTorch flags', { skip }, async () => {
  const cuda = await runCli([
    'diagnose',
    '--torch',
    `${MODELS}:gru_model`,
    '--python',
    python,
    '--device',
    'cuda',
    '--task',
    'copy',
    '--T',
    '6',
  ]);
  if (cuda.code === 0) return; // a machine with a GPU: nothing to refuse
  assert.match(
    cuda.stderr.trim().split('\n')[1],
    /^rnn-memory: --device cuda: CUDA is not available to this PyTorch \(torch 2\.[\d.]+.*\)$/,
  );
  const usage = async (args: string[], re: RegExp) => {
    const r = await runCli(['diagnose', ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr.trim(), re);
  };
  await usage(
    ['--torch', 'model.py', '--task', 'copy'],
    /^rnn-memory: --torch must be FILE\.py:NAME, e\.g\. models\/my_rnn\.py:make_model \(got "model\.py"\)$/,
  );
  await usage(
    ['--torch', `${MODELS}:gru_model`, '--torch-args', '[1]', '--task', 'copy'],
    /^rnn-memory: --torch-args must be a JSON object of keyword arguments \(got \[1\]\)$/,
  );
  await usage(
    ['--model', 'm.safetensors', '--weights', 'w.pt'],
    /^rnn-memory: --weights applies to PyTorch models only \(--torch FILE\.py:NAME\)$/,
  );
  await usage(
    ['--torch', `${MODELS}:gru_model`, '--python', python],
    /^rnn-memory: a PyTorch model needs --task copy\|denoise\|smnist or --input FILE\.json \(it records no task of its own\)$/,
  );
});
