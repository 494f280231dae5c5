import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel, forward } from '../../core/model/network';
import { saveModel } from '../../core/model/model-file';
import { Rng } from '../../core/util/rng';

const root = join(__dirname, '..', '..');
const cliArgs = ['--import', 'tsx', join(root, 'core', 'cli', 'main.ts')];

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [...cliArgs, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('usage errors print one clear line and exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['train', '--task', 'copy', '--cell', 'brc'], /train needs --out/],
    [['train', '--task', 'copy', '--out', 'x'], /train needs --cell/],
    [['train', '--task', 'copy', '--cell', 'brc', '--out', 'x', '--T', 'ten'], /--T must be an integer/],
    [['train', '--task', 'copy', '--cell', 'brc', '--out', 'x', '--colour', 'red'], /unknown flag --colour/],
    [['trace', '--model', 'm.safetensors'], /trace needs --input/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')} → exit ${r.code}: ${r.err}`);
    assert.match(r.err, re);
    assert.equal(r.err.trim().split('\n').length, 1, `more than one line: ${r.err}`);
  }
});

test('bad configuration values and missing files exit 1 with the reason', () => {
  const d = mkdtempSync(join(tmpdir(), 'rnn-cli-'));
  try {
    let r = cli(['train', '--task', 'copy', '--cell', 'rnn', '--out', join(d, 'r')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /unknown cell "rnn"/);
    r = cli(['trace', '--model', join(d, 'missing.safetensors'), '--input', join(d, 'in.json')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /missing\.safetensors/);
    writeFileSync(join(d, 'junk.safetensors'), 'not a model at all');
    writeFileSync(join(d, 'in.json'), JSON.stringify({ x: [[[1]]] }));
    r = cli(['trace', '--model', join(d, 'junk.safetensors'), '--input', join(d, 'in.json')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /junk\.safetensors/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('trace returns outputs, states and gates that match the model', () => {
  const d = mkdtempSync(join(tmpdir(), 'rnn-cli-'));
  try {
    const rng = new Rng(2);
    const model = createModel(
      {
        inputSize: 2,
        layers: [
          { cell: 'brc', units: 3 },
          { cell: 'lstm', units: 2 },
        ],
        readout: { units: 1, activation: 'linear', perStep: false },
      },
      rng,
    );
    const path = join(d, 'm.safetensors');
    saveModel(path, model, { dtype: 'F64' });
    const x = [
      [
        [0.5, -1],
        [1, 0.2],
        [-0.3, 0.4],
      ],
      [
        [0, 1],
        [2, -2],
        [0.1, 0.1],
      ],
    ];
    writeFileSync(join(d, 'in.json'), JSON.stringify({ x }));
    const r = cli(['trace', '--model', path, '--input', join(d, 'in.json'), '--out', join(d, 'out.json'), '--engine', 'reference']);
    assert.equal(r.code, 0, r.err);
    const out = JSON.parse(readFileSync(join(d, 'out.json'), 'utf8'));
    assert.equal(out.layers.length, 2);
    assert.deepEqual(Object.keys(out.layers[0].gates).sort(), ['a', 'c']);
    assert.deepEqual(Object.keys(out.layers[1].gates).sort(), ['cell', 'f', 'i', 'o']);
    assert.equal(out.layers[0].h.length, 2);
    assert.equal(out.layers[0].h[0].length, 3);
    assert.equal(out.layers[0].h[0][0].length, 3);
    // Independent check: run the same model in-process (time-major input).
    const flat = new Float64Array(3 * 2 * 2);
    for (let b = 0; b < 2; b++) for (let t = 0; t < 3; t++) for (let i = 0; i < 2; i++) flat[(t * 2 + b) * 2 + i] = x[b][t][i];
    const fr = forward(model, flat, 3, 2);
    for (let b = 0; b < 2; b++) {
      assert.ok(Math.abs(out.y[b][0] - fr.out[b]) < 1e-12);
      for (let t = 0; t < 3; t++)
        for (let j = 0; j < 3; j++)
          assert.ok(Math.abs(out.layers[0].gates.a[b][t][j] - fr.layers[0].fwd.gates.a[(t * 2 + b) * 3 + j]) < 1e-12);
    }
    writeFileSync(join(d, 'bad.json'), JSON.stringify({ x: [[[1, 2, 3]]] }));
    const bad = cli(['trace', '--model', path, '--input', join(d, 'bad.json')]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /x\[0\]\[0\] must be an array of 2 features/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('Ctrl-C during training saves a checkpoint, exits 130, and --resume finishes the run', async () => {
  const d = mkdtempSync(join(tmpdir(), 'rnn-cli-'));
  try {
    const out = join(d, 'run');
    const child = spawn(
      process.execPath,
      [
        ...cliArgs,
        'train',
        '--task',
        'copy',
        '--cell',
        'gru',
        '--T',
        '10',
        '--layers',
        '1',
        '--units',
        '8',
        '--batch',
        '16',
        '--steps',
        '100000',
        '--engine',
        'reference',
        '--json',
        '--out',
        out,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stderr.on('data', (c) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (c) => {
        stdout += c;
        if (!signalled && stdout.includes('"type":"progress"')) {
          signalled = true;
          child.kill('SIGINT');
        }
      });
      child.on('exit', (c) => resolve(c));
    });
    assert.equal(code, 130, stderr);
    assert.match(stderr, /resume with: rnn-memory train --resume/);
    const status = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    assert.equal(status.status, 'cancelled');
    assert.ok(existsSync(join(out, 'model.safetensors')));
    const r = cli(['train', '--resume', out, '--steps', String(status.step + 20), '--json']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`"type":"done","step":${status.step + 20}`));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('train --curriculum reports the stage length while it lasts and writes the best model', () => {
  const d = mkdtempSync(join(tmpdir(), 'rnn-cli-'));
  try {
    const out = join(d, 'r');
    const r = cli([
      'train',
      '--task',
      'copy',
      '--cell',
      'brc',
      '--T',
      '12',
      '--layers',
      '1',
      '--units',
      '4',
      '--batch',
      '8',
      '--steps',
      '4000',
      '--curriculum',
      '3000',
      '--eval-every',
      '1000',
      '--test-size',
      '16',
      '--json',
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, r.err);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; step: number; seqLen?: number; best?: { step: number; path: string } });
    const progress = events.filter((e) => e.type === 'progress');
    // Progress comes every 250 ms (how many fall inside the curriculum depends on the machine's speed).
    assert.ok(progress.length > 0);
    assert.ok(
      progress.filter((e) => e.step <= 3000).every((e) => e.seqLen !== undefined && e.seqLen < 12),
      'a curriculum step without its stage length',
    );
    assert.ok(
      progress.filter((e) => e.step > 3000).every((e) => e.seqLen === undefined),
      'a stage reported after the curriculum',
    );
    assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).curriculum, 3000);
    const done = events.find((e) => e.type === 'done')!;
    assert.ok(done.best && existsSync(done.best.path), 'done names an existing best model');
    assert.equal(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).best.step, done.best.step);
    assert.match(r.err, /best: test mse .* at step \d+; saved to /);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
