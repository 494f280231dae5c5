/**
 * Mutation fuzzing of every model importer: truncations, bit flips, random overwrites, inserted/duplicated
 * chunks, huge integers and edited JSON numbers applied to the committed fixtures. A case passes when the
 * importer either loads a model or throws FormatError / NeedsAnswers; any other exception, a message with raw
 * control characters, or a case slower than the time limit, is a failure. `--mutators=structure` instead applies
 * structure-aware mutations to the zip-based files (pickle opcodes, zip headers and entries: fuzz-pickle-zip.ts).
 *
 *   node --import tsx scripts/fuzz-formats.ts [cases=10000] [seed=1] [--mutators=bytes|structure]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openModelBytes } from '../core/formats/detect';
import { AnswerBook, FormatError, NeedsAnswers } from '../core/formats/errors';
import { openTfjsModel } from '../core/formats/tfjs';
import { Rng } from '../core/util/rng';
import { mutateStructure, mutateZipHeaders } from './fuzz-pickle-zip';
// Structure-aware section (below):
import { unzipSync, zipSync } from 'fflate';
import { checkDiagnoseWork, LimitError } from '../core/diagnostics/limits';
import { h5Child, h5Keys, isDataset, openH5, type H5Group } from '../core/formats/h5';
import { serializeModel } from '../core/model/model-file';
import { createModel } from '../core/model/network';

const FIX = join(__dirname, '..', 'test', 'fixtures', 'formats');

interface Target {
  name: string;
  bytes: Uint8Array;
  answers: Record<string, string>;
  /** For TF.js: the shard that goes with the model.json (mutated too). */
  shard?: Uint8Array;
}

function loadTargets(): Target[] {
  const out: Target[] = [];
  const answersFor = (file: string): Record<string, string> => {
    const g = join(FIX, file.replace(/\.(safetensors|pt|keras|h5)$/, '.golden.json'));
    try {
      return (JSON.parse(readFileSync(g, 'utf8')) as { answers?: Record<string, string> }).answers ?? {};
    } catch {
      return { 'readout.activation': 'linear', 'readout.perStep': 'last' };
    }
  };
  for (const f of readdirSync(FIX)) {
    if (/\.(safetensors|pt|keras|h5)$/.test(f))
      out.push({ name: f, bytes: new Uint8Array(readFileSync(join(FIX, f))), answers: answersFor(f) });
  }
  out.push({
    name: 'tfjs-gru-simple/model.json',
    bytes: new Uint8Array(readFileSync(join(FIX, 'tfjs-gru-simple', 'model.json'))),
    answers: {},
    shard: new Uint8Array(readFileSync(join(FIX, 'tfjs-gru-simple', 'group1-shard1of1.bin'))),
  });
  return out;
}

const HUGE = [0xffffffff, 0x7fffffff, 0x80000000, 0, 1, 0xffff];

/** One random mutation of `b`; returns the mutant and a description. */
export function mutate(b: Uint8Array, rng: Rng, json: boolean): { bytes: Uint8Array; what: string } {
  const n = b.length;
  const pos = () => rng.int(Math.max(1, n));
  const kind = rng.int(json ? 9 : 7);
  const out = new Uint8Array(b);
  switch (kind) {
    case 0: {
      const at = pos();
      return { bytes: b.slice(0, at), what: `truncate at ${at}` };
    }
    case 1: {
      const k = 1 + rng.int(16);
      for (let i = 0; i < k; i++) out[pos()] ^= 1 << rng.int(8);
      return { bytes: out, what: `${k} bit flips` };
    }
    case 2: {
      const at = pos();
      const len = 1 + rng.int(64);
      for (let i = at; i < Math.min(n, at + len); i++) out[i] = rng.int(256);
      return { bytes: out, what: `random bytes at ${at}+${len}` };
    }
    case 3: {
      const at = Math.max(0, pos() - 8);
      const v = new DataView(out.buffer);
      const h = HUGE[rng.int(HUGE.length)];
      if (at + 8 <= n) {
        v.setUint32(at, h, true);
        if (rng.uniform() < 0.5) v.setUint32(at + 4, h, true);
      }
      return { bytes: out, what: `integer ${h} at ${at}` };
    }
    case 4: {
      const at = pos();
      const len = 1 + rng.int(256);
      const chunk = b.slice(at, at + len);
      const ins = pos();
      const m = new Uint8Array(n + chunk.length);
      m.set(b.subarray(0, ins));
      m.set(chunk, ins);
      m.set(b.subarray(ins), ins + chunk.length);
      return { bytes: m, what: `duplicate ${at}+${len} at ${ins}` };
    }
    case 5: {
      const at = pos();
      const len = 1 + rng.int(512);
      return { bytes: new Uint8Array([...b.subarray(0, at), ...b.subarray(Math.min(n, at + len))]), what: `delete ${at}+${len}` };
    }
    case 6: {
      const at = pos();
      const len = 1 + rng.int(256);
      out.fill(rng.uniform() < 0.5 ? 0 : 0xff, at, at + len);
      return { bytes: out, what: `fill ${at}+${len}` };
    }
    default: {
      // JSON: replace a number with an extreme one, or drop a character.
      const text = new TextDecoder().decode(b);
      const nums = [...text.matchAll(/-?\d+(\.\d+)?/g)];
      if (kind === 7 && nums.length > 0) {
        const m = nums[rng.int(nums.length)];
        const repl = ['1e9', '-1', '0', '4294967296', '9007199254740993', '1.5', 'null', '"x"'][rng.int(8)];
        const t = text.slice(0, m.index) + repl + text.slice(m.index! + m[0].length);
        return { bytes: new TextEncoder().encode(t), what: `number ${m[0]} -> ${repl}` };
      }
      const at = pos();
      return { bytes: new TextEncoder().encode(text.slice(0, at) + text.slice(at + 1)), what: `drop char ${at}` };
    }
  }
}

export interface FuzzFailure {
  target: string;
  what: string;
  error: string;
}

export type Mutators = 'bytes' | 'structure';

export function fuzzFormats(
  cases: number,
  seed = 1,
  timeLimitMs = 2000,
  mutators: Mutators = 'bytes',
): { cases: number; failures: FuzzFailure[]; slowestMs: number; slowestCase: string; loaded: number } {
  const targets = loadTargets().filter((t) => mutators === 'bytes' || /\.(pt|keras)$/.test(t.name));
  const rng = new Rng(seed);
  const failures: FuzzFailure[] = [];
  let slowest = 0;
  let slowestCase = '';
  let loaded = 0;
  for (let c = 0; c < cases; c++) {
    const t = targets[c % targets.length];
    const json = t.name.endsWith('.json');
    const mutateShard = !!t.shard && rng.uniform() < 0.3;
    // .keras files get header mutations only: their entries are not ours to bound (see zip.ts readZip limits).
    const m =
      mutators === 'structure'
        ? t.name.endsWith('.pt')
          ? mutateStructure(t.bytes, rng)
          : mutateZipHeaders(t.bytes, rng)
        : mutateShard
          ? mutate(t.shard!, rng, false)
          : mutate(t.bytes, rng, json);
    const start = performance.now();
    try {
      const book = new AnswerBook(t.answers);
      if (t.shard)
        openTfjsModel(new TextDecoder().decode(mutateShard ? t.bytes : m.bytes), () => (mutateShard ? m.bytes : t.shard!), book, t.name);
      else openModelBytes(m.bytes, join(FIX, t.name), book);
      loaded++;
    } catch (e) {
      if (!(e instanceof FormatError) && !(e instanceof NeedsAnswers)) {
        failures.push({
          target: t.name,
          what: `${mutateShard ? 'shard ' : ''}${m.what}`,
          error: e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) : String(e),
        });
        // eslint-disable-next-line no-control-regex -- raw control characters are what this looks for
      } else if (e instanceof FormatError && /[\x00-\x1f\x7f-\x9f]/.test(e.message)) {
        failures.push({ target: t.name, what: m.what, error: `raw control characters in ${JSON.stringify(e.message.slice(0, 200))}` });
      }
    }
    const ms = performance.now() - start;
    if (ms > slowest) {
      slowest = ms;
      slowestCase = `${t.name} [${m.what}]`;
    }
    if (ms > timeLimitMs) failures.push({ target: t.name, what: m.what, error: `took ${ms.toFixed(0)} ms` });
  }
  return { cases, failures, slowestMs: slowest, slowestCase, loaded };
}

if (require.main === module && process.argv[2] !== 'structured') {
  const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (flags.includes('--help')) {
    process.stdout.write(
      'usage: node --import tsx scripts/fuzz-formats.ts [cases=10000] [seed=1] [--mutators=bytes|structure] [--time-limit=ms]\n',
    );
    process.exit(0);
  }
  const flag = (name: string) => flags.find((f) => f.startsWith(`--${name}=`))?.split('=')[1];
  const mutators = (flag('mutators') ?? 'bytes') as Mutators;
  if (mutators !== 'bytes' && mutators !== 'structure') throw new Error(`--mutators must be bytes or structure, not ${mutators}`);
  const cases = Number(args[0] ?? 10000);
  const seed = Number(args[1] ?? 1);
  const t0 = Date.now();
  const r = fuzzFormats(cases, seed, Number(flag('time-limit') ?? 2000), mutators);
  const mb = (process.memoryUsage().rss / 2 ** 20).toFixed(0);
  const peak = (process.resourceUsage().maxRSS / 1024).toFixed(0);
  process.stdout.write(
    `${r.cases} ${mutators} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${r.loaded} still loaded, ${r.failures.length} failures, slowest ${r.slowestMs.toFixed(0)} ms (${r.slowestCase}), rss ${mb} MiB, peak rss ${peak} MiB\n`,
  );
  for (const f of r.failures.slice(0, 30)) process.stdout.write(`  ${f.target} [${f.what}]: ${f.error}\n`);
  process.exitCode = r.failures.length ? 1 : 0;
}

// ---- Structure-aware mutations: HDF5 header messages, TF.js manifest entries, safetensors header and metadata numbers.
//   node --import tsx scripts/fuzz-formats.ts structured [cases=20000] [seed=1]
// A case passes when the importer loads a model (then a diagnosis of its task must fit the memory budget or be
// refused by checkDiagnoseWork) or throws FormatError / NeedsAnswers with a one-line message of at most 400 chars.

/** Header messages of every object in an HDF5 file (type, offset, size), found through jsfive on the intact file. */
export function h5Messages(bytes: Uint8Array): { type: number; offset: number; size: number }[] {
  const out: { type: number; offset: number; size: number }[] = [];
  const visit = (node: H5Group | ReturnType<typeof h5Child>, depth: number): void => {
    const o = (node as unknown as { _dataobjects?: { msgs: Map<string, number>[] } })._dataobjects;
    for (const m of o?.msgs ?? []) out.push({ type: m.get('type')!, offset: m.get('offset_to_message')!, size: m.get('size')! });
    if (!node || isDataset(node) || depth > 8) return;
    for (const k of h5Keys(node)) visit(h5Child(node, k), depth + 1);
  };
  visit(openH5(bytes), 0);
  return out;
}

const H5_INTERESTING = [0x01, 0x03, 0x08, 0x0b, 0x0c, 0x15, 0x10, 0x11, 0x02, 0x06];
const BIG64 = [0n, 1n, 2n ** 31n, 2n ** 32n, 2n ** 32n + 3n, 2n ** 40n, 2n ** 63n, 0xffffffffffffffffn, 8192n, 65536n];

/** Overwrites a field inside one header message (dimensions, layout class and addresses, chunk dims, filters …). */
export function mutateH5Message(
  b: Uint8Array,
  msgs: { type: number; offset: number; size: number }[],
  rng: Rng,
): { bytes: Uint8Array; what: string } {
  const pool = msgs.filter((m) => H5_INTERESTING.includes(m.type) && m.size > 0);
  const m = pool[rng.int(pool.length)];
  const out = new Uint8Array(b);
  const v = new DataView(out.buffer);
  const at = m.offset + rng.int(Math.max(1, m.size));
  const kind = rng.int(4);
  if (kind === 0 && at + 8 <= out.length) {
    const x = BIG64[rng.int(BIG64.length)];
    v.setBigUint64(at, x, true);
    return { bytes: out, what: `msg 0x${m.type.toString(16)} u64 ${x} at ${at}` };
  }
  if (kind === 1 && at + 4 <= out.length) {
    const x = [0, 1, 0xffffffff, 0x80000000, 8192, 1 << 20][rng.int(6)];
    v.setUint32(at, x, true);
    return { bytes: out, what: `msg 0x${m.type.toString(16)} u32 ${x} at ${at}` };
  }
  if (kind === 2 && m.type === 0x01 && m.offset + 16 <= out.length) {
    // A dataspace dimension (version 1 header is 8 bytes, version 2 is 4).
    const first = m.offset + (out[m.offset] === 1 ? 8 : 4);
    const d = first + 8 * rng.int(Math.max(1, out[m.offset + 1]));
    const x = BIG64[rng.int(BIG64.length)];
    if (d + 8 <= out.length) v.setBigUint64(d, x, true);
    return { bytes: out, what: `dataspace dim := ${x}` };
  }
  const x = [0, 1, 2, 3, 4, 0x7f, 0xff][rng.int(7)];
  if (at < out.length) out[at] = x;
  return { bytes: out, what: `msg 0x${m.type.toString(16)} byte ${x} at ${at}` };
}

type Json = Record<string, unknown>;

/** One edit of a TF.js model.json: repeated or escaping paths, extreme shapes, dtypes, quantization, task metadata. */
export function mutateTfjsManifest(text: string, rng: Rng): { text: string; what: string } {
  const j = JSON.parse(text) as Json & { weightsManifest: { paths: unknown[]; weights: Json[] }[] };
  const g = j.weightsManifest[0];
  const w = g.weights[rng.int(g.weights.length)];
  const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)];
  let what: string;
  switch (rng.int(9)) {
    case 0: {
      const n = pick([2, 10, 1000, 100000]);
      g.paths = Array.from({ length: n }, () => g.paths[0]);
      what = `path listed ${n}×`;
      break;
    }
    case 1: {
      const p = pick([
        '../x.bin',
        '/etc/passwd',
        'a/./b.bin',
        '',
        'C:\\x.bin',
        'x'.repeat(600),
        'group1-shard1of1.bin\0',
        'file:///etc/passwd',
        './../x',
        7,
      ]);
      g.paths[rng.int(g.paths.length)] = p;
      what = `path := ${JSON.stringify(p).slice(0, 40)}`;
      break;
    }
    case 2: {
      const shape = w.shape as unknown[];
      const x = pick([0, 2 ** 31, 2 ** 53, -1, 1.5, 1e9, 'x', null, 8192]);
      if (shape.length > 0) shape[rng.int(shape.length)] = x;
      else w.shape = [x];
      what = `shape dim := ${String(x)}`;
      break;
    }
    case 3: {
      w.dtype = pick(['float64', 'int8', 'string', 'complex64', 123, 'uint8']);
      what = `dtype := ${String(w.dtype)}`;
      break;
    }
    case 4: {
      w.quantization = { dtype: pick(['uint8', 'uint16', 'float16', 'int4']), scale: pick([1, NaN, 1e308, -1]), min: pick([0, -1e308]) };
      what = `quantization ${JSON.stringify(w.quantization)}`;
      break;
    }
    case 5: {
      const n = pick([1, 100, 5000]);
      for (let i = 0; i < n; i++) g.paths.push(`extra-${i}.bin`);
      what = `${n} extra paths`;
      break;
    }
    case 6: {
      const task = {
        name: pick(['copy', 'denoise', 'smnist', 'custom', 'x']),
        T: pick([1e7, 1e5, 100001, 0, -3, 1.5, 2 ** 53, '300']),
        N: pick([0, 1e7, 99999, -1]),
      };
      j.userDefinedMetadata = { rnnMemoryLens: { task } };
      what = `task ${JSON.stringify(task)}`;
      break;
    }
    case 7: {
      const n = pick([2, 1000]);
      for (let i = 0; i < n; i++) g.weights.push({ ...w, shape: (w.shape as unknown[]).slice() });
      what = `weight repeated ${n}×`;
      break;
    }
    default: {
      j.weightsManifest.push({ paths: g.paths.slice(), weights: g.weights.slice(0, 1) });
      what = 'second group on the same shard';
    }
  }
  return { text: JSON.stringify(j), what };
}

/** One edit of a safetensors file's numbers: the header length, data offsets, shapes, or our architecture metadata. */
export function mutateSafetensorsNumbers(b: Uint8Array, rng: Rng): { bytes: Uint8Array; what: string } {
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))) as Record<string, Json>;
  const data = b.subarray(8 + n);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const e = header[names[rng.int(names.length)]];
  const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)];
  const kind = rng.int(5);
  let what: string;
  if (kind === 0) {
    const len = pick([n - 1, n + 1, n + 8, n * 2, 2 ** 32, 2 ** 40, 100_000_000, 100_000_001, Math.floor(n / 2)]);
    const out = new Uint8Array(b);
    new DataView(out.buffer).setBigUint64(0, BigInt(len), true);
    return { bytes: rng.uniform() < 0.3 ? out.subarray(0, 8 + Math.floor(n / 2)) : out, what: `header length := ${len}` };
  }
  if (kind === 1) {
    const offs = e.data_offsets as number[];
    offs[rng.int(2)] = pick([0, 2 ** 32, 2 ** 53, -1, 1.5, offs[0] + 1, offs[1] - 1]);
    what = `data_offsets := ${JSON.stringify(offs)}`;
  } else if (kind === 2) {
    const shape = e.shape as unknown[];
    if (shape.length > 0) shape[rng.int(shape.length)] = pick([0, 2 ** 31, 2 ** 40, -1, 1.5, 1e9]);
    what = `shape := ${JSON.stringify(shape)}`;
  } else {
    const meta = header.__metadata__ as Record<string, string> | undefined;
    if (!meta?.architecture) {
      e.dtype = pick(['F64', 'I64', 'Q4', 'BOOL']);
      what = `dtype := ${String(e.dtype)}`;
    } else {
      // A number of the architecture JSON (units, inputSize, task T / N …) made extreme.
      const text = meta.architecture;
      const nums = [...text.matchAll(/\d+/g)];
      const m = nums[rng.int(nums.length)];
      const repl = pick(['10000000', '100000', '100001', '0', '65537', '9007199254740993', '1e300', '-1']);
      meta.architecture = text.slice(0, m.index) + repl + text.slice(m.index! + m[0].length);
      what = `architecture number ${m[0]} -> ${repl}`;
    }
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return { bytes: out, what };
}

/** One in-memory shard with the folder reader's size contract (core/formats/tfjs-shards.ts). */
function readMemoryShard(shard: Uint8Array, max: number): Uint8Array {
  if (shard.length > max) throw new FormatError(`weight shard has ${shard.length} bytes but the manifest needs only ${max} more`);
  return shard;
}

export function fuzzStructured(
  cases: number,
  seed = 1,
  timeLimitMs = 2000,
): {
  cases: number;
  failures: FuzzFailure[];
  slowestMs: number;
  slowest: string;
  loaded: number;
  peakRssMb: number;
  byKind: Record<string, number>;
} {
  const rng = new Rng(seed);
  const h5 = readdirSync(FIX)
    .filter((f) => f.endsWith('.h5'))
    .map((f) => {
      const bytes = new Uint8Array(readFileSync(join(FIX, f)));
      return { name: f, bytes, msgs: h5Messages(bytes), answers: {} as Record<string, string> };
    });
  const keras = readdirSync(FIX)
    .filter((f) => f.endsWith('.keras'))
    .map((f) => {
      const files = unzipSync(new Uint8Array(readFileSync(join(FIX, f))));
      return { name: f, files, msgs: h5Messages(files['model.weights.h5']) };
    });
  const tfjs = ['tfjs-gru-simple', 'tfjs-lstm'].map((d) => {
    const text = readFileSync(join(FIX, d, 'model.json'), 'utf8');
    const paths = (JSON.parse(text) as { weightsManifest: { paths: string[] }[] }).weightsManifest.flatMap((g) => g.paths);
    return { name: d, text, shards: new Map(paths.map((p) => [p, new Uint8Array(readFileSync(join(FIX, d, p)))])) };
  });
  const ours = serializeModel(
    createModel(
      {
        inputSize: 1,
        layers: [
          { cell: 'nbrc', units: 6 },
          { cell: 'gru', units: 4 },
        ],
        readout: { units: 1, activation: 'linear', perStep: false },
        task: { name: 'copy', T: 50, N: 0 },
      },
      new Rng(3),
    ),
  );
  const st = [
    { name: 'ours.safetensors', bytes: ours },
    ...readdirSync(FIX)
      .filter((f) => /^torch-.*\.safetensors$/.test(f))
      .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(FIX, f))) })),
  ];
  const answers = { 'readout.activation': 'linear', 'readout.perStep': 'last', 'encoder.nonlinearity': 'relu' };
  const failures: FuzzFailure[] = [];
  const byKind: Record<string, number> = {};
  let slowest = 0;
  let loaded = 0;
  let peak = process.memoryUsage().rss;
  let slowestCase = '';
  for (let c = 0; c < cases; c++) {
    const kind = ['h5', 'keras', 'tfjs', 'safetensors'][c % 4];
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    let target = '';
    let what = '';
    const start = performance.now();
    try {
      const book = new AnswerBook(answers);
      let model;
      if (kind === 'h5') {
        const t = h5[rng.int(h5.length)];
        const m = mutateH5Message(t.bytes, t.msgs, rng);
        [target, what] = [t.name, m.what];
        model = openModelBytes(m.bytes, join(FIX, t.name), book).model;
      } else if (kind === 'keras') {
        const t = keras[rng.int(keras.length)];
        const m = mutateH5Message(t.files['model.weights.h5'], t.msgs, rng);
        [target, what] = [t.name, m.what];
        model = openModelBytes(zipSync({ ...t.files, 'model.weights.h5': m.bytes }, { level: 0 }), join(FIX, t.name), book).model;
      } else if (kind === 'tfjs') {
        const t = tfjs[rng.int(tfjs.length)];
        const m = mutateTfjsManifest(t.text, rng);
        [target, what] = [t.name, m.what];
        const seen = new Set<string>();
        const read = (p: string, max: number): Uint8Array => {
          const s = t.shards.get(p);
          if (!s) throw new FormatError(`weight shard ${JSON.stringify(p.slice(0, 60))} cannot be opened (ENOENT)`);
          if (seen.has(p)) throw new Error(`shard ${p} read twice`);
          seen.add(p);
          return readMemoryShard(s, max);
        };
        model = openTfjsModel(m.text, read, book, t.name).model;
      } else {
        const t = st[rng.int(st.length)];
        const m = mutateSafetensorsNumbers(t.bytes, rng);
        [target, what] = [t.name, m.what];
        model = openModelBytes(m.bytes, join(FIX, t.name), book).model;
      }
      loaded++;
      // The file's task must not decide the work: a diagnosis at its T fits the budget or is refused up front.
      try {
        checkDiagnoseWork(model.arch, model.arch.task?.T ?? 300, 64);
      } catch (e) {
        if (!(e instanceof LimitError)) throw e;
      }
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const clean =
        (e instanceof FormatError || e instanceof NeedsAnswers) &&
        (e instanceof NeedsAnswers || (!msg.includes('\n') && msg.length <= 400));
      if (!clean) failures.push({ target, what, error: e instanceof Error ? `${e.name}: ${msg}`.slice(0, 300) : String(e) });
    }
    const ms = performance.now() - start;
    if (ms > slowest) slowestCase = `${target} [${what}]`;
    slowest = Math.max(slowest, ms);
    if (ms > timeLimitMs) failures.push({ target, what, error: `took ${ms.toFixed(0)} ms` });
    if (c % 50 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return { cases, failures, slowestMs: slowest, slowest: slowestCase, loaded, peakRssMb: peak / 2 ** 20, byKind };
}

if (require.main === module && process.argv[2] === 'structured') {
  const cases = Number(process.argv[3] ?? 20000);
  const seed = Number(process.argv[4] ?? 1);
  const t0 = Date.now();
  const r = fuzzStructured(cases, seed);
  process.stdout.write(
    `${r.cases} structured cases (${Object.entries(r.byKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}) in ${((Date.now() - t0) / 1000).toFixed(1)} s: ` +
      `${r.loaded} still loaded, ${r.failures.length} failures, slowest ${r.slowestMs.toFixed(0)} ms (${r.slowest.slice(0, 120)}), peak rss ${r.peakRssMb.toFixed(0)} MB\n`,
  );
  for (const f of r.failures.slice(0, 30)) process.stdout.write(`  ${f.target} [${f.what}]: ${f.error}\n`);
  process.exitCode = r.failures.length ? 1 : 0;
}
