/** `rnn-memory trace` on imported formats, with --answer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../core/cli/main';
import { parseAnswerFlag } from '../../core/formats/cli';
import { readGolden } from '../helpers/golden';

const FIX = join(__dirname, '..', 'fixtures', 'formats');

test('parseAnswerFlag reads key=value lists and rejects malformed ones', () => {
  assert.deepEqual(parseAnswerFlag('readout.activation=linear, readout.perStep=every'), {
    'readout.activation': 'linear',
    'readout.perStep': 'every',
  });
  assert.deepEqual(parseAnswerFlag(undefined), {});
  assert.throws(() => parseAnswerFlag('linear'), /key=value/);
  assert.throws(() => parseAnswerFlag('a='), /key=value/);
});

test('trace opens a PyTorch checkpoint with --answer and reproduces PyTorch outputs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnnml-cli-'));
  try {
    const model = join(dir, 'lstm.pt');
    copyFileSync(join(FIX, 'torch-lstm-checkpoint.pt'), model);
    const g = readGolden(join(FIX, 'torch-lstm.golden.json'));
    const input = join(dir, 'in.json');
    writeFileSync(input, JSON.stringify({ x: g.x }));
    const out = join(dir, 'out.json');
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    let code: number;
    let code2: number;
    try {
      code = await main(['trace', '--model', model, '--input', input, '--out', out]);
      code2 = await main([
        'trace',
        '--model',
        model,
        '--input',
        input,
        '--out',
        out,
        '--answer',
        'readout.activation=softmax,readout.perStep=every',
      ]);
      assert.ok(!existsSync(`${model}.rnnmemory.json`), 'trace writes nothing next to the model unless asked');
      code2 = await main([
        'trace',
        '--model',
        model,
        '--input',
        input,
        '--out',
        out,
        '--answer',
        'readout.activation=softmax,readout.perStep=every',
        '--remember-answers',
      ]);
    } finally {
      process.stderr.write = stderr;
    }
    assert.equal(code, 1, 'without answers the command explains what to answer and fails');
    assert.equal(code2, 0);
    assert.ok(existsSync(`${model}.rnnmemory.json`), 'answers remembered with --remember-answers');
    const res = JSON.parse(readFileSync(out, 'utf8')) as { y: number[][][]; layers: { cell: string }[] };
    assert.equal(res.layers[0].cell, 'lstm');
    // trace reports softmax probabilities; the golden holds PyTorch's logits.
    const y = g.y as number[][][];
    for (let b = 0; b < y.length; b++) {
      for (let t = 0; t < y[b].length; t++) {
        const m = Math.max(...y[b][t]);
        const e = y[b][t].map((v) => Math.exp(v - m));
        const s = e.reduce((a, c) => a + c, 0);
        e.forEach((v, j) => assert.ok(Math.abs(v / s - res.y[b][t][j]) < 1e-6));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
