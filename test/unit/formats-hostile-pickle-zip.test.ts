/**
 * Hostile PyTorch checkpoints, built byte by byte here: pickle DAGs and deep nesting, stride-0 tensors, zip bombs,
 * zips whose local headers disagree with the central directory, and control characters in names. Each must end in
 * one clear line, within a small time and memory budget, and change nothing else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { openAnyModel, openModelBytes } from '../../core/formats/detect';
import { AnswerBook, describeEngineError, FormatError } from '../../core/formats/errors';
import { readZip } from '../../core/formats/zip';
import { stored, writeZip, zeroBomb, type ZEntry } from '../../scripts/hostile-zip';

const FIX = join(__dirname, '..', 'fixtures', 'formats');
const ANSWERS = { 'readout.activation': 'linear', 'readout.perStep': 'last' };
const open = (bytes: Uint8Array) => openModelBytes(bytes, join(FIX, 'x.pt'), new AnswerBook(ANSWERS));

// ---- measuring: elapsed time and growth of the process's peak resident memory (node:test runs this file alone) ----

interface Outcome {
  error?: unknown;
  ms: number;
  peakGrowthMB: number;
}

function measure(fn: () => unknown): Outcome {
  const before = process.resourceUsage().maxRSS;
  const t0 = performance.now();
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  return { error, ms: performance.now() - t0, peakGrowthMB: (process.resourceUsage().maxRSS - before) / 1024 };
}

/** The call failed with a FormatError of one line matching `re`, quickly and without a memory spike. */
function assertRefused(o: Outcome, re: RegExp, budget = { ms: 2000, mb: 64 }): string {
  assert.ok(o.error instanceof FormatError, `expected a FormatError, got ${String(o.error)}`);
  const m = o.error.message;
  assert.match(m, re);
  // eslint-disable-next-line no-control-regex -- raw control characters are what this looks for
  assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(m), `message has raw control characters: ${JSON.stringify(m)}`);
  assert.ok(!/Maximum call stack|Invalid (typed array|string|array) length|allocation failed/.test(m), m);
  assert.ok(o.ms < budget.ms, `took ${o.ms.toFixed(0)} ms`);
  assert.ok(o.peakGrowthMB < budget.mb, `peak memory grew by ${o.peakGrowthMB.toFixed(0)} MB`);
  return m;
}

// ---- a minimal pickle writer (protocol 2 opcodes, as torch.save writes them) ----

const enc = new TextEncoder();
class Pickle {
  private readonly b: number[] = [0x80, 0x02];
  op(...bytes: number[]): this {
    for (const x of bytes) this.b.push(x);
    return this;
  }
  int(n: number): this {
    return this.op(0x4a, ...le32(n)); // BININT
  }
  str(s: string): this {
    const u = enc.encode(s);
    return this.op(0x58, ...le32(u.length), ...u); // BINUNICODE
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...enc.encode(`${module}\n${name}\n`));
  }
  tuple(...items: ((p: this) => void)[]): this {
    this.op(0x28);
    for (const it of items) it(this);
    return this.op(0x74);
  }
  /** torch._utils._rebuild_tensor_v2(storage('0', FloatStorage, numel), offset, size, stride, False, OrderedDict()) */
  tensor(numel: number, offset: number, size: number[], stride: number[], key = '0'): this {
    this.global('torch._utils', '_rebuild_tensor_v2');
    return this.tuple(
      (p) =>
        p
          .tuple(
            (q) => q.str('storage'),
            (q) => q.global('torch', 'FloatStorage'),
            (q) => q.str(key),
            (q) => q.str('cpu'),
            (q) => q.int(numel),
          )
          .op(0x51),
      (p) => p.int(offset),
      (p) => p.tuple(...size.map((d) => (q: this) => q.int(d))),
      (p) => p.tuple(...stride.map((d) => (q: this) => q.int(d))),
      (p) => p.op(0x89),
      (p) => p.global('collections', 'OrderedDict').op(0x29, 0x52),
    ).op(0x52);
  }
  /** OrderedDict() with the given items set. */
  stateDict(items: [string, (p: this) => void][]): this {
    this.global('collections', 'OrderedDict').op(0x29, 0x52);
    for (const [k, v] of items) {
      this.str(k);
      v(this);
      this.op(0x73);
    }
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from([...this.b, 0x2e]);
  }
}

function le32(n: number): Uint8Array {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, n >>> 0, true);
  return new Uint8Array(v.buffer);
}

/** A one-tensor checkpoint: `pkl` and the raw float32 storage data/0. */
const checkpoint = (pkl: Uint8Array, storage: ZEntry = stored('ck/data/0', new Uint8Array(4))) =>
  writeZip([stored('ck/data.pkl', pkl), stored('ck/byteorder', enc.encode('little')), storage]);

/** torch-gru.pt's entries (read with fflate, independently of our reader). */
function gruEntries(): Record<string, Uint8Array> {
  return unzipSync(new Uint8Array(readFileSync(join(FIX, 'torch-gru.pt'))));
}

// ---- 1. pickle: key blow-up, nesting, object count ----

test('pickle: a tuple DAG used as a dict key (128 bytes, 2^60 leaves) is read in linear time', () => {
  // BININT1 0, then 60 × (DUP, TUPLE2): each level holds the one below twice.
  const dag = [0x4b, 0x00, ...Array.from({ length: 60 }, () => [0x32, 0x86]).flat()];
  const pkl = Uint8Array.from([0x80, 0x02, 0x7d, ...dag, 0x4e, 0x73, 0x2e]); // {dag: None}
  assert.ok(pkl.length <= 128);
  const o = measure(() => open(checkpoint(pkl)));
  // The dict holds no tensors; its one key is shown, cut short, in a one-line error.
  const m = assertRefused(o, /no state dict of tensors found in the checkpoint \(top-level keys: "\(\(\(\(/, { ms: 500, mb: 32 });
  assert.ok(m.length < 400, m);
});

test('pickle: a million nested tuples, or a million objects, are refused with a clear error, not a stack overflow', () => {
  const deep = new Uint8Array(2 + 2 + 1_000_000 + 1);
  deep.set([0x80, 0x02, 0x4b, 0x00]);
  deep.fill(0x85, 4, 4 + 1_000_000); // TUPLE1 × 10^6
  deep[deep.length - 1] = 0x2e;
  assertRefused(
    measure(() => open(checkpoint(deep))),
    /pickle: objects nested more than 1000 levels deep/,
  );
  // The same nesting used as a dict key (rendered, not recursed into) is refused the same way.
  const deepKey = Uint8Array.from([0x80, 0x02, 0x7d, 0x4b, 0x00, ...new Array<number>(5000).fill(0x85), 0x4e, 0x73, 0x2e]);
  assertRefused(
    measure(() => open(checkpoint(deepKey))),
    /nested more than 1000 levels/,
  );
  // 1.5 million empty lists, each popped at once: small in memory, but more objects than any state dict needs.
  const many = new Uint8Array(2 + 3_000_000 + 1);
  many.set([0x80, 0x02]);
  for (let i = 0; i < 1_500_000; i++) many.set([0x5d, 0x30], 2 + 2 * i);
  many[many.length - 1] = 0x2e;
  assertRefused(
    measure(() => open(checkpoint(many))),
    /pickle: more than 1000000 objects/,
  );
});

// ---- 2. tensor sizes against the storage, before allocating ----

test('a stride-0 [8192, 8192] tensor over a one-value storage is refused before allocating 512 MB', () => {
  const pkl = new Pickle().stateDict([['w', (p) => p.tensor(1, 0, [8192, 8192], [0, 0])]]).done();
  const file = checkpoint(pkl);
  assert.ok(file.length < 4096);
  const m = assertRefused(
    measure(() => open(file)),
    /tensor "w" \(shape \[8192, 8192\]\) has (\d+) values but its storage holds 1/,
  );
  assert.equal(Number(/has (\d+) values/.exec(m)![1]), 8192 * 8192);
  // Non-zero strides that read past the storage are caught by the same early check.
  const past = new Pickle().stateDict([['w', (p) => p.tensor(4, 1, [2, 2], [2, 1])]]).done();
  assertRefused(
    measure(() => open(checkpoint(past, stored('ck/data/0', new Uint8Array(16))))),
    /tensor "w" \(shape \[2, 2\], offset 1\) reads past its storage of 4 values/,
  );
  // Many tensors each within its storage, together above the model limit: refused before any is copied.
  const huge = 1 << 24; // 4 × 2^24 = 2^26 values in all, the limit, plus one more tensor
  const items: [string, (p: Pickle) => void][] = [0, 1, 2, 3, 4].map((i) => [`w${i}`, (p: Pickle) => p.tensor(huge, 0, [huge], [1])]);
  const storage: ZEntry = { name: 'ck/data/0', method: 8, body: zeroBomb((4 * huge) / 2 ** 20), size: 4 * huge, crc: 0 };
  assertRefused(
    measure(() => open(checkpoint(new Pickle().stateDict(items).done(), storage))),
    /checkpoint too large: more than 67108864 values/,
  );
});

// ---- 3. zip bombs ----

test('zip bombs: unreferenced entries are never inflated, a referenced one only up to its declared size', () => {
  const files = gruEntries();
  const pkl = Object.keys(files).find((k) => k.endsWith('/data.pkl'))!;
  const dir = pkl.slice(0, -'/data.pkl'.length);
  const intact = open(new Uint8Array(readFileSync(join(FIX, 'torch-gru.pt')))).model;
  const entries = Object.entries(files).map(([n, d]) => stored(n, d));
  // 1 GiB of zeros in ~1 MB each, under a name the pickle never mentions, and another outside the archive's folder.
  const bomb = zeroBomb(1024);
  const withBombs = writeZip([
    ...entries,
    { name: `${dir}/data/99`, method: 8, body: bomb, size: 2 ** 30, crc: 0 },
    { name: 'unrelated.bin', method: 8, body: bomb, size: 2 ** 30, crc: 0 },
  ]);
  assert.ok(withBombs.length > 2_000_000 && withBombs.length < 3_000_000);
  let model: unknown;
  const o = measure(() => {
    model = open(withBombs).model;
  });
  assert.equal(o.error, undefined, String(o.error));
  assert.ok(o.ms < 1000 && o.peakGrowthMB < 64, `${o.ms.toFixed(0)} ms, +${o.peakGrowthMB.toFixed(0)} MB`);
  assert.deepEqual(model, intact);
  // A storage whose header understates its deflated size: inflation stops at the declared 180 bytes.
  const lying = entries.map((e) => (e.name === `${dir}/data/0` ? { ...e, method: 8 as const, body: bomb, size: 180 } : e));
  assertRefused(
    measure(() => open(writeZip(lying))),
    /zip entry torch-gru\/data\/0 decompresses to more than the 180 bytes its header declares/,
  );
  // A data.pkl declaring 2 GiB: refused from the directory alone.
  const bigPkl = entries.map((e) => (e.name === pkl ? { ...e, method: 8 as const, body: bomb, size: 2 ** 31 } : e));
  assertRefused(
    measure(() => open(writeZip(bigPkl))),
    /zip entry torch-gru\/data\.pkl is too large \(2147483648 bytes, limit 67108864\)/,
  );
  // A storage entry larger than the pickle's storage (torch.save writes exactly its bytes) is not inflated at all.
  const larger = entries.map((e) => (e.name === `${dir}/data/0` ? { ...e, method: 8 as const, body: bomb, size: 2 ** 31 } : e));
  assertRefused(
    measure(() => open(writeZip(larger))),
    /storage data\/0 holds 2147483648 bytes, but the pickle declares 45 float32 values \(180 bytes\)/,
  );
  // A declared size no deflate stream of that length can produce.
  const tiny = writeZip([{ name: 'a', method: 8, body: bomb.subarray(0, 100), size: 1 << 20, crc: 0 }]);
  assertRefused(
    measure(() => readZip(tiny, () => true)),
    /zip entry a declares 1048576 bytes from 100 compressed bytes, more than deflate can produce/,
  );
});

// ---- 4. the central directory is what counts; local headers must agree ----

test('zips whose local headers disagree with the central directory are refused; the directory is what is read', () => {
  const files = gruEntries();
  const entries = Object.entries(files).map(([n, d]) => stored(n, d));
  const i0 = entries.findIndex((e) => e.name.endsWith('/data/0'));
  const other = stored(entries[i0].name, new Uint8Array(entries[i0].size).fill(0x40)); // the same name, other weights
  // Written in the classic way, our own writer's archive reads like the fixture.
  const intact = open(new Uint8Array(readFileSync(join(FIX, 'torch-gru.pt')))).model;
  assert.deepEqual(open(writeZip(entries)).model, intact);
  // A second local entry hidden before the listed one: a streaming reader would see other weights than PyTorch.
  const hidden = writeZip(
    [...entries.slice(0, i0), other, ...entries.slice(i0)],
    [...entries.slice(0, i0).map((e, i) => ({ e, at: i })), ...entries.slice(i0).map((e, j) => ({ e, at: i0 + 1 + j }))],
  );
  assertRefused(
    measure(() => open(hidden)),
    /zip entry torch-gru\/data\/0: its local header disagrees with the central directory \(\d+ unlisted bytes before it\)/,
  );
  // The directory names one entry, its local header another.
  const renamed = entries.map((e, i) => ({ e: i === i0 ? { ...e, name: `${e.name.slice(0, -1)}1x` } : e }));
  const m = assertRefused(
    measure(() => open(writeZip(entries, renamed))),
    /disagrees with the central directory \(name\)/,
  );
  assert.match(m, /refusing an archive that different readers would read differently/);
  // Sizes or method differ.
  const resized = entries.map((e, i) => ({ e: i === i0 ? { ...e, size: e.size - 4, body: e.body.subarray(0, e.size - 4) } : e }));
  assertRefused(
    measure(() => open(writeZip(entries, resized))),
    /disagrees with the central directory \(crc or sizes\)/,
  );
  const remethod = entries.map((e, i) => ({ e: i === i0 ? { ...e, method: 8 as const } : e }));
  assertRefused(
    measure(() => open(writeZip(entries, remethod))),
    /disagrees with the central directory \(compression method\)/,
  );
  // Two directory entries on one local header (overlapping entries: the quadratic zip bomb's trick).
  const twice = [...entries.map((e) => ({ e })), { e: { ...entries[i0], name: `${entries[i0].name}b` }, at: i0 }];
  assertRefused(
    measure(() => open(writeZip(entries, twice))),
    /overlaps the previous entry|disagrees with the central directory \(name\)/,
  );
  // The CRC is checked when an entry is read whole.
  const badCrc = entries.map((e, i) => (i === i0 ? { ...e, crc: (e.crc ^ 1) >>> 0 } : e));
  assertRefused(
    measure(() => open(writeZip(badCrc))),
    /zip entry torch-gru\/data\/0 is corrupt \(CRC mismatch\)/,
  );
});

// ---- 5. messages ----

test('control characters from the file are escaped in messages, and nothing is written next to the model', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-hostile-'));
  const evilGlobal = new Pickle().global('os\x1b]0;pwned\x07', 'system\x9b2J').done();
  const ptPath = join(dir, 'evil.pt');
  writeFileSync(ptPath, checkpoint(evilGlobal));
  const before = readdirSync(dir).sort();
  const t0 = performance.now();
  const err = await openAnyModel(ptPath).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(performance.now() - t0 < 2000);
  assert.ok(err instanceof FormatError, String(err));
  assert.ok(err.message.includes('refused global os\\x1b]0;pwned\\x07.system') && err.message.includes('\\x9b2J'), err.message);
  // eslint-disable-next-line no-control-regex -- raw control characters are what this looks for
  assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(err.message), JSON.stringify(err.message));
  assert.deepEqual(readdirSync(dir).sort(), before);
  // Entry names in zip messages.
  const dup = writeZip([stored('a\x1b[2Jb', new Uint8Array(1)), stored('a\x1b[2Jb', new Uint8Array(1))]);
  assertRefused(
    measure(() => open(dup)),
    /zip archive has the entry a\\x1b\[2Jb twice/,
  );
  const other = writeZip([stored('x\u202eevil\x7f', new Uint8Array(1))]);
  assertRefused(
    measure(() => open(other)),
    /neither a Keras 3 \.keras file nor a torch\.save checkpoint \(entries: x\\u202eevil\\x7f\)/,
  );
});

test("the JS engine's own range errors are named by what was wrong with the input", () => {
  const caught = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (e) {
      return e;
    }
    assert.fail('expected a throw');
  };
  const recurse = (n: number): number => recurse(n + 1) + 1;
  assert.match(describeEngineError(caught(() => recurse(0)))!, /too deeply nested/);
  assert.match(describeEngineError(caught(() => new Float64Array(2 ** 53)))!, /too large to hold in memory/);
  assert.match(describeEngineError(caught(() => 'x'.repeat(2 ** 30)))!, /string too long/);
  assert.equal(describeEngineError(new TypeError('x is not a function')), undefined);
});
