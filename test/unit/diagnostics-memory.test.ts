import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../../core/diagnostics/diagnose';
import { longestRun, lowerScore, memoryBatchSize } from '../../core/diagnostics/memory';
import { taskInput, type DiagnoseInput } from '../../core/diagnostics/input';
import { createModel, forward } from '../../core/model/network';
import { referenceCell } from '../../core/cells/index';
import type { Model } from '../../core/model/model';
import { Rng } from '../../core/util/rng';
import { setParams } from '../helpers/diag-models';
import { latchBatch, plantedDenoiseModel, plantedLatchModel } from '../helpers/memory-models';

const T = 60;

/** Plain squared correlation of two columns (the test's own, independent of memory.ts). */
function r2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0,
    mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let aa = 0,
    bb = 0,
    ab = 0;
  for (let i = 0; i < n; i++) {
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
    ab += (a[i] - ma) * (b[i] - mb);
  }
  return aa > 0 && bb > 0 ? (ab * ab) / (aa * bb) : 0;
}

/** h_{t,j} of every sequence, by a forward pass of the model (reference cells). */
function column(model: Model, input: DiagnoseInput, t: number, j: number, layer = 0): number[] {
  const fr = forward(model, input.x, input.T, input.B, referenceCell);
  const H = fr.layers[layer].shape.units;
  return Array.from({ length: input.B }, (_, b) => fr.layers[layer].fwd.h[(t * input.B + b) * H + j]);
}

const memoryOf = (model: Model, input: DiagnoseInput, extra: Parameters<typeof diagnose>[1] = {}) =>
  diagnose(model, { input, sections: ['bistability', 'memory'], ...extra });

test('longestRun: the longest run at or above the threshold, the earliest on ties', () => {
  assert.deepEqual(longestRun([0, 0.2, 0.3, 0, 0.5, 0.5, 0.5, 0], 0.2), [4, 6]);
  assert.deepEqual(longestRun([0.2, 0.2, 0, 0.3, 0.3], 0.2), [0, 1]);
  assert.equal(longestRun([0, 0.1], 0.2), null);
});

test('planted latch: exactly the two latching neurons carry x₁, from t = 0 to the end, with the signs and gates built in', () => {
  const model = plantedLatchModel();
  const input = latchBatch(64, T, 1);
  const r = memoryOf(model, input);
  const m = r.memory!;
  assert.equal(m.target, 'y');
  assert.equal(m.total, 2);
  assert.deepEqual([...m.layers[0].carrierNeurons].sort(), [0, 1]);
  assert.deepEqual(m.carriers.map((c) => c.neuron).sort(), [0, 1]);
  for (const c of m.carriers) {
    assert.equal(c.from, 0);
    assert.equal(c.to, T - 1);
    assert.ok(c.estimate.lo > m.threshold && c.estimate.lo <= c.score && c.score <= c.estimate.hi);
    assert.equal(c.estimate.n, 64);
    // A latch of sign(x₁): its R² with x₁ tends to corr(sign x, x)² = 2/π ≈ 0.64; check the end step independently.
    const end = r2(column(model, input, T - 1, c.neuron), input.y!);
    assert.ok(end > 0.45 && end < 0.8, `independent R² at the end ${end}`);
    assert.ok(Math.abs(c.profile[c.profile.length - 1] - (1 - ((1 - end) * 63) / 62)) < 1e-9, 'profile = adjusted R²');
    assert.ok(Math.abs(c.a! - (1 + Math.tanh(3))) < 1e-9, `a ${c.a}`);
    assert.ok(Math.abs(c.c! - 0.5) < 1e-12);
    assert.ok(c.bistable! > 0.9);
    const up = Array.from(input.y!).filter((v) => (c.neuron === 0 ? v > 0 : v < 0)).length / 64;
    assert.ok(Math.abs(c.upperBranch! - up) <= 0.1, `upper branch ${c.upperBranch} vs ${up}`);
    assert.ok(c.margin! < 1, 'inside the band');
    assert.ok(c.multiplier! > 0 && c.multiplier! < 1);
    assert.equal(c.traces.length, 16);
    assert.equal(c.traces[0].length, m.times.length);
    assert.deepEqual(c.targets, Array.from(input.y!.subarray(0, 16)));
  }
  assert.ok(m.carriers.find((c) => c.neuron === 0)!.correlation! > 0.6);
  assert.ok(m.carriers.find((c) => c.neuron === 1)!.correlation! < -0.6);
});

test('a neuron that follows its input carries x₁ for one step only: no carrier, score 0', () => {
  const model = plantedLatchModel();
  const input = latchBatch(64, T, 2);
  assert.ok(r2(column(model, input, 0, 2), input.y!) > 0.8, 'the follower does hold x₁ at t = 0');
  assert.ok(r2(column(model, input, 5, 2), input.y!) < 0.1, 'and no longer a few steps later');
  const m = memoryOf(model, input).memory!;
  assert.equal(m.layers[0].score[2], 0);
  assert.ok(!m.layers[0].carrierNeurons.includes(2));
  // With a one-step window allowed, it is a carrier from t = 0 to 0.
  const one = memoryOf(model, input, { memory: { minSteps: 1 } }).memory!;
  const f = one.carriers.find((c) => c.neuron === 2);
  assert.ok(f, 'carrier with minSteps = 1');
  assert.equal(f.from, 0);
  assert.ok(f.to <= 2);
});

test('constant neurons (saturated on one branch, or h = 0) score 0 and are never called latched memory', () => {
  const model = plantedLatchModel();
  const input = latchBatch(64, T, 3);
  const r = memoryOf(model, input);
  const b = r.bistability.layers[0];
  // Neuron 3 meets the old "holds one branch for the whole sequence" rule: that alone was called memory.
  assert.equal(b.neurons[3].flipCount, 0);
  assert.ok(b.neurons[3].longestHold >= T - 1);
  assert.equal(b.fixedPoints[T - 1][3], 3);
  const last = column(model, input, T - 1, 3);
  assert.ok(
    last.every((v) => v > 0.9),
    'upper branch in every sequence',
  );
  assert.equal(r.memory!.layers[0].score[3], 0);
  assert.equal(r.memory!.layers[0].score[4], 0);
  const text = r.diagnosis.find((d) => d.refs.includes('bistability.layers[0].neurons'))!.text;
  // Read over every sampled sequence (16 by default for this small layer), not the first one only.
  assert.equal(b.sampledSequences, 16);
  assert.match(
    text,
    /2 neurons hold one branch for all 60 steps in at least 12 of the 16 sampled sequences and vary with the target y \(latched memory\)/,
  );
  assert.match(
    text,
    /1 neuron sits on one branch for all 60 steps in at least 12 of the 16 sampled sequences without carrying the target y \(a constant unit, not memory\)/,
  );

  // Only the constant neuron latched (the two carriers' inputs cut): no sentence claims latched memory.
  setParams(model, { 'layers.0.U': [0, 0, 2, 0.001, 0, 0, 0, 0, 0.3, 0] });
  const r2nd = memoryOf(model, input);
  assert.equal(r2nd.memory!.total, 0);
  for (const d of r2nd.diagnosis) assert.doesNotMatch(d.text, /latched memory/);
  assert.ok(r2nd.diagnosis.some((d) => /No single neuron carries the target y/.test(d.text)));
  // Without the memory section the holder is not called memory either.
  const noMem = diagnose(plantedLatchModel(), { input, sections: ['bistability'] });
  for (const d of noMem.diagnosis) assert.doesNotMatch(d.text, /latched memory/);
  assert.ok(noMem.diagnosis.some((d) => /in at least 12 of the 16 sampled sequences \(the memory section, not computed/.test(d.text)));
  const one = diagnose(plantedLatchModel(), { input, sections: ['bistability'], batchSample: 1 });
  assert.ok(one.diagnosis.some((d) => /of the first sequence \(the memory section, not computed/.test(d.text)));
});

test('heldIn counts the sampled sequences in which a neuron latches, each as its own first sequence would', () => {
  const model = plantedLatchModel();
  const input = latchBatch(12, T, 4);
  const H = model.arch.layers[0].units;
  const all = diagnose(model, { input, sections: ['bistability'], batchSample: 12 }).bistability.layers[0];
  assert.equal(all.sampledSequences, 12);
  // Each sequence alone, as the first (and only) sequence of a batch: its first-sequence counts.
  const want = new Array<number>(H).fill(0);
  for (let b = 0; b < 12; b++) {
    const I = model.arch.inputSize;
    const x = new Float64Array(T * I);
    for (let t = 0; t < T; t++) for (let i = 0; i < I; i++) x[t * I + i] = input.x[(t * 12 + b) * I + i];
    const L = diagnose(model, { input: { ...input, x, B: 1, y: input.y!.subarray(b, b + 1) }, sections: ['bistability'] }).bistability
      .layers[0];
    L.neurons.forEach((n, j) => (want[j] += +(n.flipCount === 0 && n.longestHold >= T - 1 && L.fixedPoints[T - 1][j] === 3)));
  }
  assert.deepEqual(
    all.neurons.map((n) => n.heldIn),
    want,
  );
  assert.ok(want.some((k) => k === 12) && want.some((k) => k < 12), `latches per neuron: ${want}`);
});

test('the target is y of an explicit input: −x₁ flips the signs, unrelated y finds nothing', () => {
  const model = plantedLatchModel();
  const input = latchBatch(64, T, 4);
  const neg = memoryOf(model, { ...input, y: input.y!.map((v) => -v) }).memory!;
  assert.deepEqual([...neg.layers[0].carrierNeurons].sort(), [0, 1]);
  assert.ok(neg.carriers.find((c) => c.neuron === 0)!.correlation! < 0);
  const rng = new Rng(99);
  const unrelated = memoryOf(model, { ...input, y: input.y!.map(() => rng.normal()) });
  assert.equal(unrelated.memory!.total, 0);
  assert.ok(unrelated.diagnosis.some((d) => /No single neuron carries the target y/.test(d.text)));
});

test('denoise-like planted case: the writer carries marked value 5 from its writes until the end step erases it', () => {
  const Tn = 60;
  const N = 20;
  const model = plantedDenoiseModel(Tn, N);
  // memory.batch = the diagnosed batch: the section scores the batch checked independently below.
  const r = diagnose(model, { batch: 64, seed: 5, sections: ['memory'], memory: { batch: 64 } });
  const m = r.memory!;
  assert.equal(m.sequences, 64);
  assert.equal(m.ownBatch, false);
  assert.equal(m.target, 'values');
  assert.equal(m.components, 5);
  assert.deepEqual(m.layers[0].carrierNeurons, [0]);
  const c = m.carriers[0];
  assert.equal(c.component, 4);
  // The end step (index Tn) erases the state: the last step holding it is Tn − 1.
  assert.equal(c.to, Tn - 1);
  // Every 5th mark lies before Tn − N: from then on all sequences hold it; independently R² ≥ 0.8 there.
  assert.ok(c.from <= Tn - N - 1, `from ${c.from}`);
  const input = taskInput(model.arch, { batch: 64, seed: 5 });
  const y5 = Array.from({ length: 64 }, (_, b) => input.y![b * 5 + 4]);
  for (const t of [Tn - N, Tn - 1]) assert.ok(r2(column(model, input, t, 0), y5) > 0.8, `independent R² at t = ${t}`);
  assert.ok(Math.abs(c.profile[Tn - N] - (1 - ((1 - r2(column(model, input, Tn - N, 0), y5)) * 63) / 62)) < 1e-9);
  assert.equal(c.profile[Tn], 0, 'erased at the end step');
  assert.match(r.diagnosis.map((d) => d.text).join('\n'), /neuron 0 holds marked value 5 from t = \d+ to 59/);
});

test('class targets: adjusted η² across classes (checked independently), carriers named for the class', () => {
  const B = 90;
  const model = createModel(
    {
      inputSize: 2,
      layers: [{ cell: 'brc', units: 5 }],
      readout: { units: 3, activation: 'softmax', perStep: false },
      task: { name: 'custom', T },
    },
    new Rng(1),
  );
  const planted = plantedLatchModel();
  for (const [name, t] of planted.params) if (name.startsWith('layers.')) model.params.get(name)!.data.set(t.data);
  const rng = new Rng(7);
  const labels = new Int32Array(B);
  const input = latchBatch(B, T, 7);
  for (let b = 0; b < B; b++) {
    labels[b] = rng.int(3);
    input.x[b * 2] = labels[b] - 1 + 0.3 * rng.normal();
  }
  const r = memoryOf(model, { x: input.x, T, B, labels });
  const m = r.memory!;
  assert.equal(m.scoreKind, 'eta2');
  assert.equal(m.target, 'class');
  assert.deepEqual([...m.layers[0].carrierNeurons].sort(), [0, 1]);
  // Independent η² at the end step for neuron 0.
  const h = column(model, { x: input.x, T, B }, T - 1, 0);
  const mean = h.reduce((s, v) => s + v, 0) / B;
  let total = 0,
    between = 0;
  for (let k = 0; k < 3; k++) {
    const g = h.filter((_, b) => labels[b] === k);
    const gm = g.reduce((s, v) => s + v, 0) / g.length;
    between += g.length * (gm - mean) ** 2;
  }
  for (const v of h) total += (v - mean) ** 2;
  const adj = 1 - ((1 - between / total) * (B - 1)) / (B - 3);
  const c0 = m.carriers.find((c) => c.neuron === 0)!;
  assert.ok(Math.abs(c0.profile[c0.profile.length - 1] - adj) < 1e-9);
  assert.equal(c0.correlation, null);
  assert.ok(r.diagnosis.some((d) => /hold the class from t = 0 to 59 on bistable branches/.test(d.text)));
});

test('stability: five batches give the same verdict sentences', () => {
  const model = plantedLatchModel();
  const strip = (s: string) => s.replace(/Adjusted R²( at the end)?:.*$/, '');
  let first: string[] | null = null;
  for (let seed = 11; seed <= 15; seed++) {
    const r = memoryOf(model, latchBatch(64, T, seed));
    const verdicts = r.diagnosis.slice(1).map((d) => strip(d.text));
    if (first === null) first = verdicts;
    else assert.deepEqual(verdicts, first, `seed ${seed}`);
  }
  assert.ok(
    first!.some((t) => /neurons 0 and 1 hold the target y from t = 0 to 59 on bistable branches \(a ≈ 2\.0, c ≈ 0\.50\)/.test(t)),
    first!.join('\n'),
  );
});

test('intervals of 64-sequence scores cover the score of a 10× larger batch at about the nominal rate', () => {
  const model = plantedLatchModel();
  const big = diagnose(model, { input: latchBatch(640, T, 1000), sections: ['memory'], memory: { resamples: 20 } }).memory!;
  let covered = 0;
  let checked = 0;
  for (let seed = 11; seed <= 30; seed++) {
    for (const c of diagnose(model, { input: latchBatch(64, T, seed), sections: ['memory'] }).memory!.carriers) {
      const ref = big.carriers.find((x) => x.neuron === c.neuron)!;
      checked++;
      if (c.estimate.lo <= ref.score && ref.score <= c.estimate.hi) covered++;
    }
  }
  assert.equal(checked, 40);
  // 95 % intervals; the two carriers of a batch miss together, so this is about 20 independent trials.
  assert.ok(covered / checked >= 0.85, `${covered}/${checked} intervals cover the large-batch score`);
});

test('task batches: the section runs on its own 256 sequences (fewer for long, wide models); an explicit input on its own', () => {
  const model = plantedDenoiseModel(60, 20);
  const r = diagnose(model, { batch: 16, seed: 5, sections: ['memory'] });
  assert.equal(r.input.B, 16);
  assert.equal(r.memory!.sequences, 256);
  assert.equal(r.memory!.ownBatch, true);
  assert.deepEqual(r.memory!.layers[0].carrierNeurons, [0]);
  assert.equal(memoryBatchSize({ layers: [{ units: 100 }, { units: 100 }] }, 300), 256);
  // smnist-sized: 1084 steps × 4 × 100 units leave room for 36 sequences within the 16 M state values.
  assert.equal(memoryBatchSize({ layers: new Array(4).fill({ units: 100 }) }, 1084), Math.floor(16e6 / (1084 * 400)));
  assert.equal(memoryBatchSize({ layers: [{ units: 100 }] }, 300, 40), 40);
  const file = memoryOf(plantedLatchModel(), latchBatch(32, T, 1));
  assert.equal(file.memory!.sequences, 32);
  assert.equal(file.memory!.ownBatch, false);
});

test('too few sequences or probe inputs: a note, never a claim', () => {
  const model = plantedLatchModel();
  const small = memoryOf(model, latchBatch(3, T, 1));
  assert.match(small.memory!.note!, /too few/);
  assert.equal(small.memory!.total, 0);
  const probe = memoryOf(model, { ...latchBatch(16, T, 1), source: 'probe' });
  assert.match(probe.memory!.note!, /no target/);
  for (const d of probe.diagnosis) assert.doesNotMatch(d.text, /latched memory|holds? (x₁|the target)/);
});

test('GRU: the update gate is given, bistability fields are null', () => {
  const model = createModel(
    {
      inputSize: 1,
      layers: [{ cell: 'gru', units: 8 }],
      readout: { units: 1, activation: 'linear', perStep: false },
      task: { name: 'copy', T: 40 },
    },
    new Rng(3),
  );
  // A random GRU keeps x₁ for a few steps in some neurons: check the fields those carriers have.
  const r = diagnose(model, { T: 40, batch: 64, seed: 1, sections: ['memory'] });
  assert.ok(r.memory!.carriers.length > 0);
  for (const c of r.memory!.carriers) {
    assert.equal(c.a, null);
    assert.equal(c.margin, null);
    assert.equal(c.multiplier, null);
    assert.equal(c.upperBranch, null);
    assert.ok(c.c !== null && c.c > 0 && c.c < 1);
  }
  assert.equal(r.memory!.target, 'x1');
});

test('per-step readouts: the target is the last step’s (earlier steps’ targets are ignored)', () => {
  const model = createModel(
    {
      inputSize: 2,
      layers: [{ cell: 'brc', units: 5 }],
      readout: { units: 1, activation: 'linear', perStep: true },
      task: { name: 'custom', T },
    },
    new Rng(1),
  );
  for (const [name, t] of plantedLatchModel().params) if (name.startsWith('layers.')) model.params.get(name)!.data.set(t.data);
  const batch = latchBatch(64, T, 8);
  const rng = new Rng(5);
  const y = new Float64Array(T * 64).map(() => rng.normal());
  y.set(batch.y!, (T - 1) * 64);
  const m = memoryOf(model, { ...batch, y }).memory!;
  assert.deepEqual([...m.layers[0].carrierNeurons].sort(), [0, 1]);
});

test('per-step lower bound: below the true R² in about 97.5 % of samples (one-sided 95 % interval)', () => {
  const rng = new Rng(21);
  const n = 100;
  const rho = 0.5;
  const lower = lowerScore(n, 2);
  let below = 0;
  const trials = 400;
  for (let i = 0; i < trials; i++) {
    const x: number[] = [];
    const y: number[] = [];
    for (let b = 0; b < n; b++) {
      const u = rng.normal();
      x.push(u);
      y.push(rho * u + Math.sqrt(1 - rho * rho) * rng.normal());
    }
    const adj = Math.max(0, 1 - ((1 - r2(x, y)) * (n - 1)) / (n - 2));
    if (lower(adj) <= rho * rho) below++;
  }
  assert.ok(below / trials > 0.94 && below / trials < 0.995, `${below}/${trials}`);
  assert.equal(lower(0), 0);
});
