/**
 * PyTorch state dicts (from safetensors `save_file(model.state_dict())` or from a .pt checkpoint) → our Model.
 * Recognised modules, under any prefix (`rnn.`, `model.rnn.`, `module.` …):
 *  - torch.nn.RNN/GRU/LSTM (`weight_ih_l{k}` …) and RNNCell/GRUCell/LSTMCell (`weight_ih` …), cell type from the
 *    gate count of weight_ih; PyTorch stores W as (out, in) and orders gates GRU r,z,n / LSTM i,f,g,o.
 *  - niklexical/brc_pytorch BRC/nBRC cells (kernelz, kernelr, kernelh, memoryz, memoryr, bz, br).
 *  - kklemon/brc-pytorch BRC/NBRC/GRUCell/LSTMCell (iw, hw, [rw], bias).
 *  - one nn.Linear readout ([out, H] weight) after the recurrent layers.
 */
import { readSafetensors, SafetensorsError } from '../model/safetensors';
import { ModelFileError, parseModel, MODEL_FORMAT } from '../model/model-file';
import type { Model } from '../model/model';
import { assembleModel, paperBrcLayer, type ImportedLayer, type ImportedReadout } from './assemble';
import { AnswerBook, clip, FormatError, READOUT_ACTIVATION_QUESTION, READOUT_STEPS_QUESTION } from './errors';
import { add, colSlice, expectShape, naturalCompare, reorderBlocks, shapeStr, transpose, type RawTensor } from './tensors';

export interface ImportResult {
  model: Model;
  warnings: string[];
}

const TORCH_RNN = /^(.*?)(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$/;
const TORCH_CELL = /^(|.*\.)(weight_ih|weight_hh|bias_ih|bias_hh)$/;
const PAPER = /^(|.*\.)(kernelz|kernelr|kernelh|memoryz|memoryr|bz|br)$/;
const KKLEMON = /^(|.*\.)(iw|hw|rw|bias)$/;

interface Group {
  prefix: string;
  index: number;
  build: () => ImportedLayer;
}

/** Converts a flat name → tensor map from PyTorch. `book` supplies answers for what names cannot tell. */
export function importStateDict(tensors: Map<string, RawTensor>, book: AnswerBook, source: string): ImportResult {
  const warnings: string[] = [];
  const used = new Set<string>();
  const take = (name: string): RawTensor => {
    const t = tensors.get(name);
    if (!t) throw new FormatError(`missing tensor "${clip(name)}"`);
    used.add(name);
    return t;
  };
  const opt = (name: string): RawTensor | undefined => (tensors.has(name) ? take(name) : undefined);
  const names = [...tensors.keys()];
  const groups: Group[] = [];

  // torch.nn.RNN / GRU / LSTM
  const seen = new Set<string>();
  for (const n of names) {
    const m = TORCH_RNN.exec(n);
    if (!m) continue;
    const [, prefix, kind, k, reverse] = m;
    if (reverse) throw new FormatError(`bidirectional recurrent layer (${clip(n)}): only unidirectional RNNs are supported`);
    if (kind === 'weight_hr') throw new FormatError(`LSTM with a projection (proj_size, ${clip(n)}) is not supported`);
    const key = `${prefix}|${k}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const sfx = `_l${k}`;
    groups.push({
      prefix,
      index: Number(k),
      build: () => torchLayer(prefix, sfx, take, opt, book, `${prefix}*${sfx}`),
    });
  }
  // torch.nn.*Cell, the paper-named cells and kklemon's cells: one layer per prefix.
  const prefixes = (re: RegExp, must: string) =>
    [...new Set(names.filter((n) => re.test(n) && !TORCH_RNN.test(n)).map((n) => re.exec(n)![1]))].filter((p) => tensors.has(p + must));
  for (const p of prefixes(TORCH_CELL, 'weight_ih'))
    groups.push({ prefix: p, index: 0, build: () => torchLayer(p, '', take, opt, book, `${p}weight_ih`) });
  for (const p of prefixes(PAPER, 'kernelz')) {
    groups.push({
      prefix: p,
      index: 0,
      build: () =>
        paperBrcLayer(
          {
            kernelz: take(p + 'kernelz'),
            kernelr: take(p + 'kernelr'),
            kernelh: take(p + 'kernelh'),
            memoryz: take(p + 'memoryz'),
            memoryr: take(p + 'memoryr'),
            bz: opt(p + 'bz'),
            br: opt(p + 'br'),
          },
          p || 'cell',
        ),
    });
  }
  for (const p of prefixes(KKLEMON, 'iw')) groups.push({ prefix: p, index: 0, build: () => kklemonLayer(p, take, opt) });

  groups.sort((a, b) => naturalCompare(a.prefix, b.prefix) || a.index - b.index);
  const layers = groups.map((g) => g.build());
  if (layers.length === 0) {
    throw new FormatError(
      `no recurrent layer recognised among ${tensors.size} tensors (${clip(names.slice(0, 6).join(', '), 200)}…); ` +
        'expected torch.nn.GRU/LSTM/RNN (weight_ih_l0 …), their *Cell versions, or a BRC/nBRC port (kernelz … or iw/hw)',
    );
  }

  // The readout: a single Linear-like [k, H] weight among the remaining tensors.
  const H = layers[layers.length - 1].spec.units;
  const rest = names.filter((n) => !used.has(n));
  const linear = [
    ...new Set(rest.filter((n) => /(^|\.)weight$/.test(n) && tensors.get(n)!.shape.length === 2).map((n) => n.slice(0, -'weight'.length))),
  ];
  let readout: ImportedReadout | undefined;
  if (linear.length > 1) {
    throw new FormatError(
      `several Linear-like layers after the recurrent layers (${linear.map((p) => clip(p + 'weight')).join(', ')}): only one Linear readout is supported`,
    );
  }
  if (linear.length === 1) {
    const p = linear[0];
    const w = take(p + 'weight');
    if (w.shape[1] !== H) {
      throw new FormatError(
        `${clip(p)}weight has shape ${shapeStr(w.shape)}, but a readout on the top recurrent layer needs [outputs, ${H}] (embedding or input layers are not supported)`,
      );
    }
    const k = w.shape[0];
    const b = opt(p + 'bias') ?? { shape: [k], data: new Float64Array(k) };
    expectShape(`${p}bias`, b, [k]);
    const activation = book.ask(READOUT_ACTIVATION_QUESTION) as 'linear' | 'softmax';
    const perStep = book.ask(READOUT_STEPS_QUESTION) === 'every';
    readout = { kernel: { shape: [H, k], data: transpose(w.data, k, H) }, bias: b, activation, perStep, origin: p + 'weight' };
  }
  const left = names.filter((n) => !used.has(n));
  if (left.length > 0) {
    throw new FormatError(
      `unrecognised tensor${left.length > 1 ? 's' : ''} ${left
        .slice(0, 8)
        .map((n) => `"${clip(n)}" ${clip(shapeStr(tensors.get(n)!.shape))}`)
        .join(', ')}${left.length > 8 ? ` and ${left.length - 8} more` : ''}: ` +
        'RNN Memory Lens reads stacked recurrent layers plus one Linear readout, and would compute something else with these ignored',
    );
  }
  book.finish(source);
  return { model: assembleModel(layers, readout, warnings), warnings };
}

function torchLayer(
  prefix: string,
  sfx: string,
  take: (n: string) => RawTensor,
  opt: (n: string) => RawTensor | undefined,
  book: AnswerBook,
  origin: string,
): ImportedLayer {
  const wih = take(`${prefix}weight_ih${sfx}`);
  const whh = take(`${prefix}weight_hh${sfx}`);
  if (whh.shape.length !== 2 || wih.shape.length !== 2) throw new FormatError(`${clip(origin)}: weight_ih/weight_hh must be 2-D`);
  const H = whh.shape[1];
  const gH = whh.shape[0];
  const g = gH / H;
  if (H === 0 || ![1, 3, 4].includes(g)) {
    throw new FormatError(`${clip(origin)}: weight_hh ${shapeStr(whh.shape)} is not [g·H, H] with g = 1 (RNN), 3 (GRU) or 4 (LSTM)`);
  }
  const I = wih.shape[1];
  expectShape(`${origin} weight_ih`, wih, [gH, I]);
  const zero = (): RawTensor => ({ shape: [gH], data: new Float64Array(gH) });
  const bih = opt(`${prefix}bias_ih${sfx}`) ?? zero();
  const bhh = opt(`${prefix}bias_hh${sfx}`) ?? zero();
  expectShape(`${origin} bias_ih`, bih, [gH]);
  expectShape(`${origin} bias_hh`, bhh, [gH]);
  const K = transpose(wih.data, gH, I); // [I, gH], gate blocks along columns
  const RK = transpose(whh.data, gH, H);
  if (g === 3) {
    const order = [1, 0, 2]; // torch r, z, n → ours z, r, h
    const bias = new Float64Array(2 * gH);
    bias.set(reorderBlocks(bih.data, 1, H, order), 0);
    bias.set(reorderBlocks(bhh.data, 1, H, order), gH);
    return {
      spec: { cell: 'gru', units: H },
      inputSize: I,
      params: {
        kernel: { shape: [I, gH], data: reorderBlocks(K, I, H, order) },
        recurrent_kernel: { shape: [H, gH], data: reorderBlocks(RK, H, H, order) },
        bias: { shape: [2, gH], data: bias },
      },
      origin,
    };
  }
  const params = {
    kernel: { shape: [I, gH], data: K },
    recurrent_kernel: { shape: [H, gH], data: RK },
    bias: { shape: [gH], data: add(bih.data, bhh.data) },
  };
  if (g === 4) return { spec: { cell: 'lstm', units: H }, inputSize: I, params, origin };
  const name = prefix.replace(/\.$/, '') || 'rnn';
  const nonlinearity = book.ask({
    key: `${name}.nonlinearity`,
    prompt: `torch.nn.RNN "${clip(name)}": which nonlinearity was it built with?`,
    choices: [
      { value: 'tanh', label: 'tanh (PyTorch default)' },
      { value: 'relu', label: 'relu' },
    ],
    suggested: 'tanh',
  }) as 'tanh' | 'relu';
  const spec =
    nonlinearity === 'relu'
      ? { cell: 'simple_rnn' as const, units: H, activation: 'relu' as const }
      : { cell: 'simple_rnn' as const, units: H };
  return { spec, inputSize: I, params, origin };
}

/** kklemon/brc-pytorch cells: x @ iw with column chunks, h @ hw, one input-side bias. */
function kklemonLayer(p: string, take: (n: string) => RawTensor, opt: (n: string) => RawTensor | undefined): ImportedLayer {
  const origin = p || 'cell';
  const iw = take(p + 'iw');
  const hw = take(p + 'hw');
  const rw = opt(p + 'rw');
  const bias = opt(p + 'bias');
  if (iw.shape.length !== 2) throw new FormatError(`${clip(origin)}iw must be 2-D, found ${clip(shapeStr(iw.shape))}`);
  const [I, W] = iw.shape;
  if (rw) {
    // GRUCell: ig, rg, og = chunks of x@iw + bias; h' = (1 − ig)·h + ig·tanh(og + (rg⊙h) @ rw). ig = 1 − z in our
    // convention, and 1 − σ(u) = σ(−u), so the z blocks are negated; this is a reset-before GRU.
    const H = W / 3;
    if (!Number.isInteger(H) || H === 0) throw new FormatError(`${clip(origin)}iw ${shapeStr(iw.shape)}: width is not 3·H`);
    expectShape(`${origin}hw`, hw, [H, 2 * H]);
    expectShape(`${origin}rw`, rw, [H, H]);
    const b = bias ?? { shape: [3 * H], data: new Float64Array(3 * H) };
    expectShape(`${origin}bias`, b, [3 * H]);
    const rk = new Float64Array(H * 3 * H);
    for (let k = 0; k < H; k++) {
      for (let j = 0; j < H; j++) {
        rk[k * 3 * H + j] = -hw.data[k * 2 * H + j];
        rk[k * 3 * H + H + j] = hw.data[k * 2 * H + H + j];
        rk[k * 3 * H + 2 * H + j] = rw.data[k * H + j];
      }
    }
    return {
      spec: { cell: 'gru', units: H, resetAfter: false },
      inputSize: I,
      params: {
        kernel: { shape: [I, 3 * H], data: reorderBlocks(iw.data, I, H, [0, 1, 2], [-1, 1, 1]) },
        recurrent_kernel: { shape: [H, 3 * H], data: rk },
        bias: { shape: [3 * H], data: reorderBlocks(b.data, 1, H, [0, 1, 2], [-1, 1, 1]) },
      },
      origin,
    };
  }
  if (hw.shape.length === 2 && hw.shape[1] === 4 * hw.shape[0]) {
    const H = hw.shape[0];
    expectShape(`${origin}iw`, iw, [I, 4 * H]);
    const b = bias ?? { shape: [4 * H], data: new Float64Array(4 * H) };
    expectShape(`${origin}bias`, b, [4 * H]);
    return {
      spec: { cell: 'lstm', units: H },
      inputSize: I,
      params: { kernel: iw, recurrent_kernel: hw, bias: b }, // ig, fg, cg, og = ours i, f, c, o
      origin,
    };
  }
  // BRC (hw [2H]) / NBRC (hw [H, 2H]): x@iw chunks a, c, candidate; h-side chunks a, c.
  const H = W / 3;
  if (!Number.isInteger(H) || H === 0) throw new FormatError(`${clip(origin)}iw ${shapeStr(iw.shape)}: width is not 3·H`);
  const nbrc = hw.shape.length === 2;
  expectShape(`${origin}hw`, hw, nbrc ? [H, 2 * H] : [2 * H]);
  const b = bias ?? { shape: [3 * H], data: new Float64Array(3 * H) };
  expectShape(`${origin}bias`, b, [3 * H]);
  let maxCand = 0;
  for (let j = 2 * H; j < 3 * H; j++) maxCand = Math.max(maxCand, Math.abs(b.data[j]));
  if (maxCand !== 0) {
    throw new FormatError(
      `${clip(origin)}bias: kklemon/brc-pytorch adds a bias to the candidate (max |b| = ${maxCand.toPrecision(3)}); ` +
        'the BRC/nBRC of the paper (and RNN Memory Lens) have none, so this model cannot be represented exactly',
    );
  }
  const vec = (a: Float64Array, j0: number): RawTensor => ({ shape: [H], data: a.slice(j0, j0 + H) });
  const params: Record<string, RawTensor> = {
    U_a: { shape: [I, H], data: colSlice(iw.data, I, W, 0, H) },
    U_c: { shape: [I, H], data: colSlice(iw.data, I, W, H, H) },
    U: { shape: [I, H], data: colSlice(iw.data, I, W, 2 * H, H) },
    b_a: vec(b.data, 0),
    b_c: vec(b.data, H),
  };
  if (nbrc) {
    params.W_a = { shape: [H, H], data: colSlice(hw.data, H, 2 * H, 0, H) };
    params.W_c = { shape: [H, H], data: colSlice(hw.data, H, 2 * H, H, H) };
  } else {
    params.w_a = vec(hw.data, 0);
    params.w_c = vec(hw.data, H);
  }
  return { spec: { cell: nbrc ? 'nbrc' : 'brc', units: H }, inputSize: I, params, origin };
}

/** A safetensors file: our own model format, or a PyTorch state dict. */
export function openSafetensorsBytes(bytes: Uint8Array, book: AnswerBook, source: string): ImportResult & { kind: string } {
  let parsed: ReturnType<typeof readSafetensors>;
  try {
    parsed = readSafetensors(bytes);
    if (parsed.metadata.format === MODEL_FORMAT) return { ...parseModel(bytes), kind: 'RNN Memory Lens model (safetensors)' };
  } catch (e) {
    if (e instanceof SafetensorsError || e instanceof ModelFileError) throw new FormatError(e.message, { cause: e });
    throw e;
  }
  const { tensors } = parsed;
  const raw = new Map<string, RawTensor>();
  for (const [n, t] of tensors) raw.set(n, { shape: t.shape, data: t.data });
  return { ...importStateDict(raw, book, source), kind: 'PyTorch state dict (safetensors)' };
}
