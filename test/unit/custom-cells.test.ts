import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brcCell } from '../../core/cells/brc';
import { layerCell } from '../../core/cells/index';
import type { CellDef, LayerParams, SeqShape } from '../../core/cells/types';
import { dryRunCell, type CustomCellDef } from '../../core/custom/cell-def';
import { clearCustomCells, registerCustomCell } from '../../core/cells/custom-registry';
import { cellSourcePath, loadCellDef, loadModelWithCustomCells } from '../../core/custom/resolve';
import { CustomCellError } from '../../core/custom/source';
import { loadTf } from '../../core/custom/tf';
import { diagnose } from '../../core/diagnostics/diagnose';
import { validateArchitecture, type Architecture } from '../../core/model/architecture';
import { loadModel, parseModel, saveModel, serializeModel } from '../../core/model/model-file';
import { createModel } from '../../core/model/network';
import { RUN_FILES, runTraining } from '../../core/train/run';
import type { TrainConfig } from '../../core/train/types';
import { noisyParams } from '../helpers/params';
import { Rng } from '../../core/util/rng';
import { checkGradient } from '../helpers/gradcheck';

const root = join(__dirname, '..', '..');
const fixture = (name: string) => join(root, 'test', 'fixtures', 'custom-cells', name);
const leakyTs = join(root, 'examples', 'cells', 'leaky-tanh.ts');
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

const randomParams = (def: CellDef, I: number, H: number, rng: Rng, jitter = 0.3): LayerParams => noisyParams(def, I, H, rng, jitter);

const normals = (rng: Rng, n: number, scale = 1) => Float64Array.from({ length: n }, () => scale * rng.normal());
const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);

function maxRelDiff(a: Float64Array, b: Float64Array): number {
  assert.equal(a.length, b.length);
  let scale = 1;
  let worst = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / scale;
}

/** 1-based line and column of `needle` on the line containing `marker` in a fixture's text. */
function positionOf(file: string, marker: string, needle: string): { line: number; column: number } {
  const lines = readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(marker));
  assert.ok(i >= 0, `marker ${marker} not in ${file}`);
  const col = lines[i].indexOf(needle);
  assert.ok(col >= 0);
  return { line: i + 1, column: col + 1 };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'custom-cells-'));
}

test('BRC written as a custom cell matches the built-in float64 BRC: states, gates and all gradients', () => {
  const def = loadCellDef(fixture('brc.ts'));
  const I = 2,
    H = 5,
    T = 6,
    B = 3;
  const shape: SeqShape = { T, B, inputSize: I, units: H };
  assert.deepEqual(def.paramSpecs(I, H), brcCell.paramSpecs(I, H));
  assert.deepEqual([...def.gateNames].sort(), ['a', 'c']);
  const rng = new Rng(11);
  const p = randomParams(brcCell, I, H, rng, 0.5);
  const x = normals(rng, T * B * I);
  const h0 = Float64Array.from({ length: B * H }, () => rng.uniform() - 0.5);
  const ref = brcCell.forward(p, x, shape, h0);
  const got = def.forward(p, x, shape, h0);
  // float32 through six steps of O(1) values: errors of a few 1e-7.
  assert.ok(maxRelDiff(ref.h, got.h) < 2e-6, `h differs by ${maxRelDiff(ref.h, got.h)}`);
  for (const g of ['a', 'c']) assert.ok(maxRelDiff(ref.gates[g], got.gates[g]) < 2e-6, `gate ${g}`);
  const dhOut = normals(rng, T * B * H);
  const rb = brcCell.backward(p, x, ref, dhOut, shape);
  const gb = def.backward(p, x, got, dhOut, shape);
  for (const name of Object.keys(rb.grads)) {
    const d = maxRelDiff(rb.grads[name], gb.grads[name]);
    assert.ok(d < 2e-5, `gradient of ${name} differs by ${d} (relative to its scale)`);
  }
  assert.ok(maxRelDiff(rb.dx, gb.dx) < 2e-5, 'dx');
  assert.ok(maxRelDiff(rb.dh, gb.dh) < 2e-5, 'dh (gradient-flow diagnostic)');
});

test('custom cell gradients (parameters, x, dh) match central finite differences of its float32 forward', () => {
  for (const file of [leakyTs, fixture('two-part.ts')]) {
    const def = loadCellDef(file);
    const I = 2,
      H = 3,
      T = 4,
      B = 2;
    const shape: SeqShape = { T, B, inputSize: I, units: H };
    const rng = new Rng(5);
    const p = randomParams(def, I, H, rng);
    const x = normals(rng, T * B * I);
    const w = normals(rng, T * B * H); // L = Σ h ⊙ w, so dL/dh_t = w_t
    const loss = () => dot(def.forward(p, x, shape).h, w);
    const fwd = def.forward(p, x, shape);
    const g = def.backward(p, x, fwd, w, shape);
    // float32 forward: the loss is known to ~1e-6, so eps = 1e-2 (fourth-order stencil) and 2 % tolerance
    // above a 1e-2 floor; a missing path or a wrong sign is off by far more.
    const opts = { eps: 1e-2, tol: 2e-2, floor: 1e-2 };
    for (const name of Object.keys(p)) checkGradient(`${def.custom.name}.${name}`, p[name], g.grads[name], loss, opts);
    checkGradient(`${def.custom.name}.x`, x, g.dx, loss, opts);
    // dh[0] = dL/dh_1 through every later step: perturb h_1 (the state's first H columns; the rest held)
    // and run the remaining T − 1 steps from it.
    const S = def.stateSizeOf(H);
    const s1 = new Float64Array(B * S);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) s1[b * S + j] = fwd.h[b * H + j];
      for (let j = H; j < S; j++) s1[b * S + j] = fwd.gates.cell[b * H + j - H];
    }
    const tail = { ...shape, T: T - 1 };
    const hFront = new Float64Array(B * H);
    for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) hFront[b * H + j] = s1[b * S + j];
    const lossFromH1 = () => {
      for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) s1[b * S + j] = hFront[b * H + j];
      const rest = def.forward(p, x.subarray(B * I), tail, s1);
      return dot(hFront, w.subarray(0, B * H)) + dot(rest.h, w.subarray(B * H));
    };
    checkGradient(`${def.custom.name}.dh[0]`, hFront, g.dh.slice(0, B * H), lossFromH1, opts);
  }
});

test('a 2·units state exposes its second half as the "cell" trace and supports single steps from any state', () => {
  const def = loadCellDef(fixture('two-part.ts'));
  assert.equal(def.custom.hIsState, true);
  assert.ok(def.gateNames.includes('cell') && def.gateNames.includes('f') && def.gateNames.includes('o'));
  const I = 1,
    H = 2,
    B = 2;
  const rng = new Rng(3);
  const p = randomParams(def, I, H, rng);
  const x = normals(rng, 3 * B * I);
  const full = def.forward(p, x, { T: 3, B, inputSize: I, units: H });
  // Restart from the state after step 1 ([h, c] rebuilt from h and the "cell" trace): steps 2–3 repeat.
  const s1 = new Float64Array(B * 2 * H);
  for (let b = 0; b < B; b++) {
    s1.set(full.h.subarray(b * H, b * H + H), b * 2 * H);
    s1.set(full.gates.cell.subarray(b * H, b * H + H), b * 2 * H + H);
  }
  const rest = def.forward(p, x.subarray(B * I), { T: 2, B, inputSize: I, units: H }, s1);
  assert.deepEqual(Array.from(rest.h), Array.from(full.h.subarray(B * H)));
  assert.equal(def.stateSize?.(H), 2 * H);
});

test('.ts, CommonJS .cjs and ES-module .mjs cells load and compute the same leaky-tanh as a float64 loop', () => {
  const defs = [leakyTs, fixture('leaky.cjs'), fixture('leaky.mjs')].map((f) => loadCellDef(f));
  assert.deepEqual(
    defs.map((d) => d.custom.name),
    ['leaky-tanh', 'leaky-cjs', 'leaky-mjs'],
  );
  assert.equal(defs[0].custom.sha256, sha256(leakyTs));
  const I = 2,
    H = 3,
    T = 5,
    B = 2;
  const shape = { T, B, inputSize: I, units: H };
  const rng = new Rng(9);
  const p = randomParams(defs[0], I, H, rng);
  const x = normals(rng, T * B * I);
  const outs = defs.map((d) => d.forward(p, x, shape).h);
  assert.deepEqual(Array.from(outs[1]), Array.from(outs[0]));
  assert.deepEqual(Array.from(outs[2]), Array.from(outs[0]));
  // Independent float64 leaky tanh: h = λ h + (1 − λ) tanh(x W + h R + b), λ = σ(alpha).
  let h = new Float64Array(B * H);
  const want = new Float64Array(T * B * H);
  for (let t = 0; t < T; t++) {
    const next = new Float64Array(B * H);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) {
        let z = p.b[j];
        for (let i = 0; i < I; i++) z += x[(t * B + b) * I + i] * p.W[i * H + j];
        for (let k = 0; k < H; k++) z += h[b * H + k] * p.R[k * H + j];
        const lam = 1 / (1 + Math.exp(-p.alpha[j]));
        next[b * H + j] = lam * h[b * H + j] + (1 - lam) * Math.tanh(z);
      }
    }
    want.set(next, t * B * H);
    h = next;
  }
  assert.ok(maxRelDiff(want, outs[0]) < 2e-6);
});

test('no tensors leak over many forward/backward passes, also when the step throws', () => {
  const { tf } = loadTf();
  const def = loadCellDef(leakyTs);
  const shape = { T: 4, B: 3, inputSize: 1, units: 4 };
  const rng = new Rng(2);
  const p = randomParams(def, 1, 4, rng);
  const x = normals(rng, 12);
  def.forward(p, x, shape); // warm-up (tfjs creates a few long-lived tensors once)
  const before = tf.memory().numTensors;
  for (let i = 0; i < 25; i++) {
    const f = def.forward(
      p,
      x,
      shape,
      Float64Array.from({ length: 12 }, () => rng.uniform()),
    );
    def.backward(p, x, f, normals(rng, 48), shape);
  }
  assert.throws(() => def.forward({ ...p, W: new Float64Array(3) }, x, shape), /parameter "W" has 3 values/);
  const throwing = loadCellDef(fixture('throws.ts'));
  // The module's call counter makes the fourth step throw; every tensor of the failed pass is released.
  assert.throws(() => throwing.forward({ w: new Float64Array(4).fill(1) }, x, shape), /custom failure/);
  assert.equal(tf.memory().numTensors, before);
});

test('errors in the user code name file:line:column of the user source, mapped through the transpile', () => {
  const bad = fixture('bad-step.ts');
  const pos = positionOf(bad, '// BAD', 'matMul');
  assert.throws(
    () => loadCellDef(bad),
    (e: unknown) => {
      assert.ok(e instanceof CustomCellError);
      assert.equal(e.line, pos.line);
      assert.equal(e.column, pos.column);
      assert.ok(
        e.message.startsWith(`${bad}:${pos.line}:${pos.column}: step threw (t = 0; load check with inputSize 3, units 4): `),
        e.message,
      );
      assert.match(e.message, /matMul/);
      return true;
    },
  );
  // An error of the user's own, raised in the backward pass's recomputation of step t = 1.
  const throws = fixture('throws.ts');
  const tpos = positionOf(throws, '// THROW', 'new Error');
  const def = loadCellDef(throws); // one inspection step at load
  assert.throws(
    () => dryRunCell(def, 1, 3), // forward t = 0, 1, then backward from t = 1 fails
    (e: unknown) =>
      e instanceof CustomCellError &&
      e.message === `${throws}:${tpos.line}:${tpos.column}: step threw (t = 1): custom failure after 3 steps`,
  );
  assert.throws(() => loadCellDef(fixture('wrong-shape.ts')), /step returned "state" of shape \[2, 3\]; expected \[2, 4\]/);

  const d = tempDir();
  try {
    const syntax = join(d, 'syntax.ts');
    writeFileSync(syntax, "export default {\n  name: 'x',\n  step: (tf) => ({ state: }),\n};\n");
    const spos = positionOf(syntax, 'state:', '}');
    assert.throws(
      () => loadCellDef(syntax),
      (e: unknown) => e instanceof CustomCellError && e.line === spos.line && e.column === spos.column && /syntax error/.test(e.message),
    );
    const imports = join(d, 'imports.ts');
    writeFileSync(imports, "// helper files are not supported\nimport { helper } from './helper';\nexport default helper;\n");
    assert.throws(
      () => loadCellDef(imports),
      (e: unknown) => e instanceof CustomCellError && e.line === 2 && /cannot import "\.\/helper"/.test(e.message),
    );
    const noStep = join(d, 'no-step.js');
    writeFileSync(noStep, "module.exports = { name: 'n', params: () => [] };\n");
    assert.throws(() => loadCellDef(noStep), /"step" must be a function/);
    const badShape = join(d, 'bad-shape.js');
    writeFileSync(
      badShape,
      "module.exports = { name: 'n', params: (i, u) => [{ name: 'W', shape: [i, 0], init: 'zeros' }], step: (tf, p, x, s) => ({ state: s }) };\n",
    );
    assert.throws(() => loadCellDef(badShape), /parameter "W": shape must be 1 to 4 positive integers, got \[3,0\]/);
    assert.throws(() => loadCellDef(join(d, 'missing.ts')), /cannot read custom cell/);
    assert.throws(() => loadCellDef(join(d, 'cell.py')), /must be a \.ts, \.mts/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

function customConfig(file: string, extra: Partial<TrainConfig> = {}): Partial<TrainConfig> {
  const def = loadCellDef(file);
  return {
    task: 'copy',
    T: 5,
    cell: 'custom',
    custom: { name: def.custom.name, source: file, sha256: def.custom.sha256 },
    layers: 1,
    units: 8,
    batch: 16,
    steps: 80,
    lr: 0.01,
    evalEvery: 40,
    testSize: 64,
    checkpointEvery: 40,
    seed: 3,
    ...extra,
  };
}

const metrics = (dir: string) =>
  readFileSync(join(dir, RUN_FILES.metrics), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; testLoss: number });

test('the leaky-tanh example trains on copy T = 5 (loss falls), checkpoints and resumes exactly; a diagnosis covers it', () => {
  const d = tempDir();
  try {
    const quiet = { isCancelled: () => false, emit: () => undefined, allowCustomCells: true };
    assert.throws(
      () => runTraining({ ...quiet, allowCustomCells: false, outDir: join(d, 'refused'), config: customConfig(leakyTs) }),
      /trusted workspace/,
    );
    const a = join(d, 'a');
    runTraining({ ...quiet, outDir: a, config: customConfig(leakyTs) });
    const m = metrics(a);
    assert.equal(m[0].step, 0);
    assert.equal(m.at(-1)!.step, 80);
    assert.ok(m.at(-1)!.testLoss < 0.6 * m[0].testLoss, `test loss ${m[0].testLoss} → ${m.at(-1)!.testLoss}`);
    const cfg = JSON.parse(readFileSync(join(a, RUN_FILES.config), 'utf8')) as TrainConfig;
    // The run keeps a copy of the cell inside its folder (a recorded source may not leave the folder).
    assert.equal(cfg.custom!.source, 'leaky-tanh.ts');
    assert.deepEqual(readFileSync(cellSourcePath(cfg.custom!, a)), readFileSync(leakyTs));
    assert.match((JSON.parse(readFileSync(join(a, RUN_FILES.status), 'utf8')) as { engine: string }).engine, /^tfjs-cpu/);
    // Resume from the step-80 checkpoint to 100 == 100 steps without interruption.
    runTraining({ ...quiet, outDir: a, resume: true, steps: 100 });
    const b = join(d, 'b');
    runTraining({ ...quiet, outDir: b, config: customConfig(leakyTs, { steps: 100 }) });
    const ma = loadModel(join(a, RUN_FILES.model)).model;
    const mb = loadModel(join(b, RUN_FILES.model)).model;
    for (const [name, t] of mb.params) assert.deepEqual(Array.from(ma.params.get(name)!.data), Array.from(t.data), name);

    // A fresh thread: nothing loaded, the model says where its cell is.
    clearCustomCells();
    assert.throws(
      () => loadModelWithCustomCells(join(a, RUN_FILES.model), { allowCustomCells: false }),
      /custom cell "leaky-tanh".*trusted workspace/,
    );
    const { model } = loadModelWithCustomCells(join(a, RUN_FILES.model), { allowCustomCells: true });
    const report = diagnose(model, { T: 5, batch: 16, seed: 1 });
    assert.deepEqual(report.sections, ['bistability', 'gradientFlow', 'retention', 'fixedPoints', 'memory']);
    const bl = report.bistability.layers[0];
    assert.equal(bl.cell, 'custom');
    assert.equal(bl.method, 'self-map');
    assert.equal(bl.note, undefined);
    assert.equal(bl.a.length, 5);
    const gf = report.gradientFlow.layers[0];
    assert.equal(gf.norm.length, 5);
    assert.ok(gf.norm.every((v) => Number.isFinite(v) && v > 0) && gf.jacobianNorm.every(Number.isFinite));
    assert.ok(report.retention !== null);
    assert.equal(report.fixedPoints.note, undefined);
    assert.ok(report.fixedPoints.points.length >= 1);
    assert.ok(report.fixedPoints.points.every((q) => q.residual < 1e-3));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('architectures and model files: custom layers validate, parse leniently until loaded, then strictly; hashes pin the file', () => {
  assert.throws(
    () => validateArchitecture({ inputSize: 1, layers: [{ cell: 'custom', units: 2 }], readout: { units: 1, activation: 'linear' } }),
    /layer 0 "custom" must be an object/,
  );
  assert.throws(
    () =>
      validateArchitecture({
        inputSize: 1,
        layers: [{ cell: 'custom', units: 2, custom: { name: 'x', source: 'c.ts', sha256: 'abc' } }],
        readout: { units: 1, activation: 'linear' },
      }),
    /"sha256" must be 64 lowercase hex digits/,
  );
  assert.throws(
    () =>
      validateArchitecture({
        inputSize: 1,
        layers: [{ cell: 'gru', units: 2, custom: { name: 'x', source: 'c.ts', sha256: 'a'.repeat(64) } }],
        readout: { units: 1, activation: 'linear' },
      }),
    /"custom" applies to custom cells only/,
  );
  const d = tempDir();
  try {
    const cell = join(d, 'cell.ts');
    copyFileSync(leakyTs, cell);
    clearCustomCells();
    const def = loadCellDef(cell);
    registerCustomCell(def.custom.sha256, def);
    const arch: Architecture = validateArchitecture({
      inputSize: 2,
      layers: [{ cell: 'custom', units: 3, custom: { name: def.custom.name, source: 'cell.ts', sha256: def.custom.sha256 } }],
      readout: { units: 1, activation: 'linear' },
    });
    // Custom layers ignore the engine's resolver.
    assert.equal(
      layerCell(arch.layers[0], () => assert.fail('resolver used')),
      def,
    );
    const model = createModel(arch, new Rng(1));
    assert.deepEqual(
      [...model.params.keys()],
      ['layers.0.W', 'layers.0.R', 'layers.0.b', 'layers.0.alpha', 'readout.kernel', 'readout.bias'],
    );
    const path = join(d, 'model.safetensors');
    saveModel(path, model, { dtype: 'F64' });
    // Strict while loaded: a tensor of the wrong shape is refused.
    const wrong = { arch, params: new Map(model.params) };
    wrong.params.set('layers.0.W', { shape: [3, 3], data: new Float64Array(9) });
    assert.throws(() => parseModel(serializeModel(wrong)), /shape mismatch for tensor "layers.0.W": expected \[2, 3\]/);
    // Not loaded (another thread, the extension host): the tensors are taken as stored.
    clearCustomCells();
    const lenient = loadModel(path).model;
    assert.deepEqual(lenient.params.get('layers.0.W')!.data, model.params.get('layers.0.W')!.data);
    assert.throws(() => layerCell(arch.layers[0]), /custom cell "leaky-tanh" \(cell\.ts\) is not loaded/);
    // Editing the cell file after training: refused unless the file is given explicitly.
    appendFileSync(cell, '\n// edited\n');
    assert.throws(() => loadModelWithCustomCells(path, { allowCustomCells: true }), /cell\.ts has changed since this model was saved/);
    const warnings: string[] = [];
    const loaded = loadModelWithCustomCells(path, { allowCustomCells: true, cell, warn: (w) => warnings.push(w) });
    assert.equal(loaded.model.params.size, 6);
    assert.match(warnings.join('\n'), /differs from the recorded cell "leaky-tanh"/);
    // A different cell whose parameters do not fit the model.
    clearCustomCells();
    assert.throws(
      () => loadModelWithCustomCells(path, { allowCustomCells: true, cell: fixture('brc.ts') }),
      /missing tensor "layers.0.U_c"/,
    );
  } finally {
    clearCustomCells();
    rmSync(d, { recursive: true, force: true });
  }
});

test('dryRunCell reports the state size and parameters at the asked sizes', () => {
  const def = loadCellDef(fixture('two-part.ts')) as CustomCellDef;
  const r = dryRunCell(def, 3, 5);
  assert.equal(r.stateSize, 10);
  assert.deepEqual(
    r.params.map((q) => q.shape),
    [[3, 10], [5, 10], [10]],
  );
});
