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
    if (/\.(safetensors|pt|keras|h5)$/.test(f)) out.push({ name: f, bytes: new Uint8Array(readFileSync(join(FIX, f))), answers: answersFor(f) });
  }
  out.push({ name: 'tfjs-gru-simple/model.json', bytes: new Uint8Array(readFileSync(join(FIX, 'tfjs-gru-simple', 'model.json'))), answers: {}, shard: new Uint8Array(readFileSync(join(FIX, 'tfjs-gru-simple', 'group1-shard1of1.bin'))) });
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

export function fuzzFormats(cases: number, seed = 1, timeLimitMs = 2000, mutators: Mutators = 'bytes'): { cases: number; failures: FuzzFailure[]; slowestMs: number; slowestCase: string; loaded: number } {
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
    const m = mutators === 'structure' ? (t.name.endsWith('.pt') ? mutateStructure(t.bytes, rng) : mutateZipHeaders(t.bytes, rng)) : mutateShard ? mutate(t.shard!, rng, false) : mutate(t.bytes, rng, json);
    const start = performance.now();
    try {
      const book = new AnswerBook(t.answers);
      if (t.shard) openTfjsModel(new TextDecoder().decode(mutateShard ? t.bytes : m.bytes), () => (mutateShard ? m.bytes : t.shard!), book, t.name);
      else openModelBytes(m.bytes, join(FIX, t.name), book);
      loaded++;
    } catch (e) {
      if (!(e instanceof FormatError) && !(e instanceof NeedsAnswers)) {
        failures.push({ target: t.name, what: `${mutateShard ? 'shard ' : ''}${m.what}`, error: e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) : String(e) });
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

if (require.main === module) {
  const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (flags.includes('--help')) {
    process.stdout.write('usage: node --import tsx scripts/fuzz-formats.ts [cases=10000] [seed=1] [--mutators=bytes|structure] [--time-limit=ms]\n');
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
  process.stdout.write(`${r.cases} ${mutators} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${r.loaded} still loaded, ${r.failures.length} failures, slowest ${r.slowestMs.toFixed(0)} ms (${r.slowestCase}), rss ${mb} MiB, peak rss ${peak} MiB\n`);
  for (const f of r.failures.slice(0, 30)) process.stdout.write(`  ${f.target} [${f.what}]: ${f.error}\n`);
  process.exitCode = r.failures.length ? 1 : 0;
}
