import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../core/util/rng';
import { loadMnist, loadMnistFromPackage, makeTask, parseMnistBin, type Batch, type Task } from '../../core/tasks/index';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'data', 'mnist.bin');

/** Sample b of a batch as a plain array [t][i] (read independently of the generators). */
function sampleOf(batch: Batch, b: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < batch.T; t++) {
    for (let i = 0; i < batch.inputSize; i++) out.push(batch.x[(t * batch.B + b) * batch.inputSize + i]);
  }
  return out;
}

function allSamples(batches: Batch[]): { x: number[][]; y: number[][]; labels: number[] } {
  const x: number[][] = [];
  const y: number[][] = [];
  const labels: number[] = [];
  for (const bt of batches) {
    const k = bt.y ? bt.y.length / bt.B : 0;
    for (let b = 0; b < bt.B; b++) {
      x.push(sampleOf(bt, b));
      if (bt.y) y.push(Array.from(bt.y.subarray(b * k, (b + 1) * k)));
      if (bt.labels) labels.push(bt.labels[b]);
    }
  }
  return { x, y, labels };
}

function meanVar(v: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  const mean = s / v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i] - mean) ** 2;
  return { mean, variance: q / v.length };
}

function checkRngReproducibility(task: Task, B: number): void {
  const rng = new Rng(123);
  rng.normal(); // arbitrary position in the stream
  const state = rng.getState();
  const a = task.trainBatch(rng, B);
  const next = task.trainBatch(rng, B);
  rng.setState(state);
  const again = task.trainBatch(rng, B);
  assert.deepEqual(again, a, 'restored rng state reproduces the batch');
  assert.deepEqual(task.trainBatch(rng, B), next, 'and the one after it');
  assert.deepEqual(task.trainBatch(new Rng(5), B), task.trainBatch(new Rng(5), B), 'same seed, same batch');
  assert.notDeepEqual(task.trainBatch(new Rng(5), B).x, task.trainBatch(new Rng(6), B).x, 'different seed, different batch');
}

// ---------------------------------------------------------------- copy

test('copy: shapes, layout, target = x at t=0', () => {
  const task = makeTask({ task: 'copy', T: 9, N: 0, seed: 1, testSize: 10 });
  assert.equal(task.name, 'copy');
  assert.deepEqual([task.inputSize, task.outputUnits, task.activation, task.loss, task.seqLen], [1, 1, 'linear', 'mse', 9]);
  const B = 7;
  const batch = task.trainBatch(new Rng(2), B);
  assert.deepEqual([batch.T, batch.B, batch.inputSize], [9, B, 1]);
  assert.equal(batch.x.length, 9 * B);
  assert.equal(batch.y!.length, B);
  assert.equal(batch.labels, undefined);
  for (let b = 0; b < B; b++) assert.equal(batch.y![b], batch.x[0 * B + b]);
  // Samples differ from each other and over time (not a broadcast of one value).
  assert.equal(new Set(batch.x).size, batch.x.length);
});

test('copy: inputs are i.i.d. N(0,1) within standard-error tolerances', () => {
  const T = 50;
  const B = 4000;
  const batch = makeTask({ task: 'copy', T, N: 0, seed: 3, testSize: 1 }).trainBatch(new Rng(4), B);
  const n = batch.x.length;
  const { mean, variance } = meanVar(batch.x);
  assert.ok(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 5 * Math.sqrt(2 / n), `variance ${variance}`);
  // Fourth moment of a normal is 3 (distinguishes N(0,1) from e.g. a uniform of unit variance).
  let m4 = 0;
  for (const v of batch.x) m4 += v ** 4;
  m4 /= n;
  assert.ok(Math.abs(m4 - 3) < 5 * Math.sqrt(96 / n), `fourth moment ${m4}`);
  // Consecutive steps of a sample are uncorrelated.
  let c = 0;
  for (let b = 0; b < B; b++) c += batch.x[b] * batch.x[B + b];
  assert.ok(Math.abs(c / B) < 5 / Math.sqrt(B), `lag-1 correlation ${c / B}`);
});

test('copy: a constant predictor 0 scores test MSE ≈ 1', () => {
  const testSize = 5000;
  const task = makeTask({ task: 'copy', T: 20, N: 0, seed: 9, testSize });
  let se = 0;
  let count = 0;
  for (const bt of task.testBatches(1000)) {
    for (let b = 0; b < bt.B; b++) {
      assert.equal(bt.y![b], bt.x[b]);
      se += bt.y![b] ** 2;
      count++;
    }
  }
  assert.equal(count, testSize);
  assert.ok(Math.abs(se / count - 1) < 5 * Math.sqrt(2 / count), `mse ${se / count}`);
});

test('copy: test set is fixed for a seed, split into batches of at most B, independent of B', () => {
  const mk = (seed: number) => makeTask({ task: 'copy', T: 6, N: 0, seed, testSize: 23 });
  const task = mk(11);
  const b10 = task.testBatches(10);
  assert.deepEqual(
    b10.map((b) => b.B),
    [10, 10, 3],
  );
  assert.deepEqual(task.testBatches(10), b10, 'same task, same test set');
  assert.deepEqual(mk(11).testBatches(10), b10, 'same seed, same test set');
  assert.deepEqual(allSamples(task.testBatches(4)), allSamples(b10), 'batch size does not change the samples');
  assert.notDeepEqual(allSamples(mk(12).testBatches(10)).x, allSamples(b10).x, 'different seed, different test set');
  // The test generator is separate from any training rng seeded the same way.
  const train = task.trainBatch(new Rng(11), 10);
  assert.notDeepEqual(train.x, b10[0].x);
});

test('copy: restoring rng state reproduces a training batch', () => {
  checkRngReproducibility(makeTask({ task: 'copy', T: 12, N: 0, seed: 1, testSize: 5 }), 8);
});

test('copy: trainSize gives a fixed training pool, reproducible and disjoint from the test set', () => {
  const opts = { task: 'copy' as const, T: 8, N: 0, seed: 21, testSize: 50, trainSize: 5 };
  const task = makeTask(opts);
  const seen = new Set<string>();
  const rng = new Rng(1);
  for (let i = 0; i < 20; i++) {
    const bt = task.trainBatch(rng, 10);
    for (let b = 0; b < bt.B; b++) {
      assert.equal(bt.y![b], bt.x[b]);
      seen.add(JSON.stringify(sampleOf(bt, b)));
    }
  }
  assert.equal(seen.size, 5, 'exactly trainSize distinct samples');
  const other = makeTask(opts).trainBatch(new Rng(77), 50);
  for (let b = 0; b < other.B; b++) assert.ok(seen.has(JSON.stringify(sampleOf(other, b))), 'same pool for the same seed');
  for (const s of allSamples(task.testBatches(50)).x) assert.ok(!seen.has(JSON.stringify(s)));
  const pool2 = makeTask({ ...opts, seed: 22 }).trainBatch(new Rng(1), 20);
  for (let b = 0; b < pool2.B; b++) assert.ok(!seen.has(JSON.stringify(sampleOf(pool2, b))), 'different seed, different pool');
  checkRngReproducibility(task, 6);
});

// ---------------------------------------------------------------- denoise

/** Checks the G1 denoising encoding sample by sample; returns the marked positions. */
function checkDenoiseBatch(bt: Batch, T: number, N: number): number[][] {
  assert.deepEqual([bt.T, bt.inputSize], [T + 1, 2]);
  assert.equal(bt.x.length, (T + 1) * bt.B * 2);
  assert.equal(bt.y!.length, 5 * bt.B);
  const at = (t: number, b: number, i: number) => bt.x[(t * bt.B + b) * 2 + i];
  const all: number[][] = [];
  for (let b = 0; b < bt.B; b++) {
    const pos: number[] = [];
    for (let t = 0; t < T; t++) {
      const m = at(t, b, 1);
      assert.ok(m === 0 || m === -1, `marker ${m}`);
      if (m === 0) pos.push(t);
    }
    assert.equal(pos.length, 5, 'exactly 5 marked steps');
    assert.ok(
      pos.every((p) => p < T - N),
      `marked positions ${pos} must be < T − N = ${T - N}`,
    );
    assert.deepEqual([at(T, b, 0), at(T, b, 1)], [0, 1], 'final step [0, +1]');
    assert.deepEqual(
      Array.from(bt.y!.subarray(b * 5, b * 5 + 5)),
      pos.map((p) => at(p, b, 0)),
      'targets = marked values in order',
    );
    all.push(pos);
  }
  return all;
}

test('denoise: encoding, markers, targets (T=30, N=10)', () => {
  const task = makeTask({ task: 'denoise', T: 30, N: 10, seed: 1, testSize: 40 });
  assert.deepEqual(
    [task.name, task.inputSize, task.outputUnits, task.activation, task.loss, task.seqLen],
    ['denoise', 2, 5, 'linear', 'mse', 31],
  );
  const pos = checkDenoiseBatch(task.trainBatch(new Rng(3), 200), 30, 10);
  const flat = pos.flat();
  assert.equal(Math.min(...flat), 0);
  assert.equal(Math.max(...flat), 19, 'the whole allowed range [0, T − N) is used');
  for (const bt of task.testBatches(15)) checkDenoiseBatch(bt, 30, 10);
});

test('denoise: paper setting T=400, N=200 forbids the tail; positions uniform; values N(0,1)', () => {
  const T = 400;
  const N = 200;
  const B = 300;
  const bt = makeTask({ task: 'denoise', T, N, seed: 5, testSize: 1 }).trainBatch(new Rng(8), B);
  const flat = checkDenoiseBatch(bt, T, N).flat();
  assert.ok(Math.max(...flat) >= 190 && Math.min(...flat) <= 9, 'positions span [0, 200)');
  // Uniform over [0, 200): mean 99.5, sd sqrt((200² − 1)/12).
  const { mean } = meanVar(flat);
  assert.ok(Math.abs(mean - 99.5) < 5 * Math.sqrt((200 * 200 - 1) / 12 / flat.length), `position mean ${mean}`);
  const values: number[] = [];
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) values.push(bt.x[(t * B + b) * 2]);
  const mv = meanVar(values);
  assert.ok(Math.abs(mv.mean) < 5 / Math.sqrt(values.length), `value mean ${mv.mean}`);
  assert.ok(Math.abs(mv.variance - 1) < 5 * Math.sqrt(2 / values.length), `value variance ${mv.variance}`);
  // N = 0 allows the marked values anywhere, including the last noise step.
  const free = checkDenoiseBatch(makeTask({ task: 'denoise', T: 20, N: 0, seed: 5, testSize: 1 }).trainBatch(new Rng(1), 200), 20, 0);
  assert.equal(Math.max(...free.flat()), 19);
});

test('denoise: T − N < 5 is rejected with a clear error; T − N = 5 marks the first 5 steps', () => {
  assert.throws(() => makeTask({ task: 'denoise', T: 10, N: 6, seed: 1, testSize: 1 }), /T − N must be at least 5/);
  const bt = makeTask({ task: 'denoise', T: 10, N: 5, seed: 1, testSize: 1 }).trainBatch(new Rng(1), 4);
  for (const p of checkDenoiseBatch(bt, 10, 5)) assert.deepEqual(p, [0, 1, 2, 3, 4]);
});

test('denoise: test set fixed per seed; rng state restores a batch; fixed pool', () => {
  const mk = (seed: number, trainSize?: number) => makeTask({ task: 'denoise', T: 25, N: 5, seed, testSize: 17, trainSize });
  assert.deepEqual(mk(4).testBatches(5), mk(4).testBatches(5));
  assert.deepEqual(allSamples(mk(4).testBatches(5)), allSamples(mk(4).testBatches(17)));
  assert.notDeepEqual(allSamples(mk(5).testBatches(5)).x, allSamples(mk(4).testBatches(5)).x);
  checkRngReproducibility(mk(4), 5);
  const pooled = mk(4, 3);
  const bt = pooled.trainBatch(new Rng(2), 60);
  checkDenoiseBatch(bt, 25, 5);
  assert.equal(new Set(allSamples([bt]).x.map((s) => JSON.stringify(s))).size, 3);
});

// ---------------------------------------------------------------- smnist

const fileBytes = new Uint8Array(readFileSync(BIN));
const COUNT = fileBytes.length / 785;
const filePixels = (idx: number) => Array.from(fileBytes.subarray(COUNT + idx * 784, COUNT + (idx + 1) * 784), (v) => v / 255);

test('mnist data: default loader matches the build output; package fallback builds identical arrays', () => {
  assert.equal(COUNT, 10000);
  const d = loadMnist();
  assert.equal(d.count, COUNT);
  assert.deepEqual(Buffer.from(d.labels), Buffer.from(fileBytes.subarray(0, COUNT)));
  assert.deepEqual(Buffer.from(d.pixels), Buffer.from(fileBytes.subarray(COUNT)));
  assert.equal(loadMnist(), d, 'cached');
  const p = loadMnistFromPackage();
  assert.ok(p, 'mnist package is installed');
  assert.equal(p.count, COUNT);
  assert.ok(Buffer.from(p.labels).equals(Buffer.from(d.labels)));
  assert.ok(Buffer.from(p.pixels).equals(Buffer.from(d.pixels)));
});

test('mnist data: bad files are rejected with clear errors', () => {
  assert.throws(() => loadMnist(join(ROOT, 'no-such-dir', 'mnist.bin')), /not found/);
  assert.throws(() => parseMnistBin(new Uint8Array(785 * 2 + 1)), /not a whole number/);
  assert.throws(() => parseMnistBin(new Uint8Array(0)), /not a whole number/);
  const bad = new Uint8Array(785 * 2);
  bad[1] = 10;
  assert.throws(() => parseMnistBin(bad), /label 10 at index 1/);
  const ok = new Uint8Array(785 * 2);
  ok[0] = 3;
  ok[2 + 784 + 5] = 200;
  const parsed = parseMnistBin(ok);
  assert.deepEqual([parsed.count, parsed.labels[0], parsed.pixels[784 + 5]], [2, 3, 200]);
});

test('smnist: shapes, black tail, pixel range, labels, row-major unpermuted pixels', () => {
  const N = 30;
  const task = makeTask({ task: 'smnist', T: 0, N, seed: 1, testSize: 50 });
  assert.deepEqual(
    [task.name, task.inputSize, task.outputUnits, task.activation, task.loss, task.seqLen],
    ['smnist', 1, 10, 'softmax', 'crossentropy', 784 + N],
  );
  const B = 64;
  const bt = task.trainBatch(new Rng(1), B);
  assert.deepEqual([bt.T, bt.B, bt.inputSize, bt.x.length], [784 + N, B, 1, (784 + N) * B]);
  assert.equal(bt.y, undefined);
  assert.ok(bt.labels instanceof Int32Array && bt.labels.length === B);
  for (let b = 0; b < B; b++) {
    assert.ok(bt.labels[b] >= 0 && bt.labels[b] <= 9);
    for (let t = 784; t < 784 + N; t++) assert.equal(bt.x[t * B + b], 0, 'black tail');
    let max = 0;
    for (let t = 0; t < 784; t++) {
      const v = bt.x[t * B + b];
      assert.ok(v >= 0 && v <= 1);
      max = Math.max(max, v);
    }
    assert.ok(max > 0.5, 'a digit has bright pixels');
  }
  // Test set = the first testSize digits of the file, pixels in file order scaled by 1/255.
  const tb = task.testBatches(20);
  assert.deepEqual(
    tb.map((b) => b.B),
    [20, 20, 10],
  );
  const s = allSamples(tb);
  assert.deepEqual(s.labels, Array.from(fileBytes.subarray(0, 50)));
  for (const i of [0, 17, 49]) assert.deepEqual(s.x[i], [...filePixels(i), ...new Array(N).fill(0)]);
});

test('smnist: training batches are roughly balanced, drawn only from the training part', () => {
  const testSize = 1000;
  const task = makeTask({ task: 'smnist', T: 784, N: 0, seed: 1, testSize });
  const key = (px: number[]) => px.join(',');
  const testKeys = new Set<string>();
  for (let i = 0; i < testSize; i++) testKeys.add(key(filePixels(i)));
  const trainIndex = new Map<string, number>();
  for (let i = testSize; i < COUNT; i++) trainIndex.set(key(filePixels(i)), i);
  const expected = new Array(10).fill(0);
  for (let i = testSize; i < COUNT; i++) expected[fileBytes[i]]++;

  const rng = new Rng(42);
  const counts = new Array(10).fill(0);
  let total = 0;
  for (let k = 0; k < 10; k++) {
    const bt = task.trainBatch(rng, 300);
    for (let b = 0; b < bt.B; b++) {
      const px = key(sampleOf(bt, b));
      assert.ok(!testKeys.has(px), 'training sample found in the test set');
      const idx = trainIndex.get(px);
      assert.ok(idx !== undefined, 'training sample is a training digit');
      assert.equal(bt.labels![b], fileBytes[idx], 'label matches its image');
      counts[bt.labels![b]]++;
      total++;
    }
  }
  for (let c = 0; c < 10; c++) {
    const p = expected[c] / (COUNT - testSize);
    assert.ok(p > 0.05 && p < 0.15, `class ${c} share ${p} in the training part`);
    const sd = Math.sqrt(total * p * (1 - p));
    assert.ok(Math.abs(counts[c] - total * p) < 5 * sd, `class ${c}: ${counts[c]} of ${total}`);
  }
  // The test set itself is exactly balanced (the file interleaves digits).
  const testCounts = new Array(10).fill(0);
  for (const l of allSamples(task.testBatches(500)).labels) testCounts[l]++;
  assert.deepEqual(testCounts, new Array(10).fill(100));
});

test('smnist: reproducibility, fixed test set, trainSize cap, errors', () => {
  const task = makeTask({ task: 'smnist', T: 784, N: 5, seed: 1, testSize: 30 });
  checkRngReproducibility(task, 16);
  assert.deepEqual(task.testBatches(7), makeTask({ task: 'smnist', T: 784, N: 5, seed: 2, testSize: 30 }).testBatches(7));
  assert.deepEqual(allSamples(task.testBatches(7)), allSamples(task.testBatches(30)));

  const capped = makeTask({ task: 'smnist', T: 784, N: 0, seed: 1, testSize: 30, trainSize: 4 });
  const allowed = new Set([30, 31, 32, 33].map((i) => filePixels(i).join(',')));
  const bt = capped.trainBatch(new Rng(3), 40);
  const seen = new Set<string>();
  for (let b = 0; b < bt.B; b++) {
    const k = sampleOf(bt, b).join(',');
    assert.ok(allowed.has(k));
    seen.add(k);
  }
  assert.equal(seen.size, 4);

  assert.throws(() => makeTask({ task: 'smnist', T: 784, N: 0, seed: 1, testSize: COUNT }), /leaves no training digits/);
  assert.throws(() => makeTask({ task: 'smnist', T: 784, N: 0, seed: 1, testSize: 10, trainSize: COUNT }), /exceeds/);
  assert.throws(() => makeTask({ task: 'smnist', T: 784, N: -1, seed: 1, testSize: 10 }), /N must be an integer/);
});

test('makeTask: argument validation', () => {
  assert.throws(() => makeTask({ task: 'copy', T: 0, N: 0, seed: 1, testSize: 1 }), /T must be an integer >= 1/);
  assert.throws(() => makeTask({ task: 'copy', T: 5, N: 0, seed: 1.5, testSize: 1 }), /seed/);
  assert.throws(() => makeTask({ task: 'copy', T: 5, N: 0, seed: 1, testSize: -1 }), /testSize/);
  assert.throws(() => makeTask({ task: 'nope' as 'copy', T: 5, N: 0, seed: 1, testSize: 1 }), /unknown task/);
  const t = makeTask({ task: 'copy', T: 5, N: 0, seed: 1, testSize: 0 });
  assert.deepEqual(t.testBatches(10), []);
  assert.throws(() => t.trainBatch(new Rng(1), 0), /batch size/);
});
