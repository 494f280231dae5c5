/** Damaged and hostile files of every format: clear FormatErrors, bounded work, and a short fuzz run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { openModelBytes } from '../../core/formats/detect';
import { AnswerBook, FormatError, NeedsAnswers } from '../../core/formats/errors';
import { unpickle } from '../../core/formats/pickle';
import { readZip } from '../../core/formats/zip';
import { fuzzFormats, fuzzStructured } from '../../scripts/fuzz-formats';

const FIX = join(__dirname, '..', 'fixtures', 'formats');
const files = readdirSync(FIX).filter((f) => /\.(safetensors|pt|keras|h5)$/.test(f) && !f.startsWith('hostile'));
const open = (bytes: Uint8Array, name = 'x') =>
  openModelBytes(
    bytes,
    join(FIX, name),
    new AnswerBook({ 'readout.activation': 'linear', 'readout.perStep': 'last', 'encoder.nonlinearity': 'relu' }),
  );

test('every fixture truncated anywhere gives a FormatError, or (slack cut off) exactly the intact model', () => {
  for (const f of files) {
    const b = new Uint8Array(readFileSync(join(FIX, f)));
    let whole: unknown;
    try {
      whole = open(b, f).model;
    } catch {
      whole = undefined; // refused on purpose (kklemon candidate bias): every truncation must fail too
    }
    for (const frac of [0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.99]) {
      const cut = Math.floor(b.length * frac);
      let model;
      try {
        model = open(b.subarray(0, cut), f).model;
      } catch (e) {
        assert.ok(e instanceof FormatError && e.message.length > 15, `${f} truncated to ${cut} bytes: ${String(e)}`);
        continue;
      }
      // HDF5 files may end in unused space; cutting it must not change a single value.
      assert.ok(whole && f.endsWith('.h5') && frac > 0.9, `${f} truncated to ${cut} bytes still loads`);
      assert.deepEqual(model, whole);
    }
  }
});

test('unknown bytes and empty files are named as unrecognised', () => {
  assert.throws(() => open(new Uint8Array(0)), /unrecognised model file/);
  assert.throws(() => open(strToU8('hello world')), /unrecognised model file/);
});

test('oversized: safetensors header length, zip entries, zip bombs and pickle lengths are refused before allocating', () => {
  const st = new Uint8Array(16);
  new DataView(st.buffer).setBigUint64(0, 1n << 40n, true);
  st[8] = 0x7b;
  assert.throws(() => open(st), FormatError);
  const bomb = zipSync({ 'model.weights.h5': new Uint8Array(8 * 1024 * 1024), 'config.json': strToU8('{}') }, { level: 9 });
  assert.ok(bomb.length < 100_000);
  assert.throws(
    () => readZip(bomb, () => true, { maxEntryBytes: 1024 * 1024, maxTotalBytes: 4 * 1024 * 1024 }),
    /too large|more than 1048576 bytes/,
  );
  // Entries that together declare more than the total limit: refused from the directory, before inflating.
  assert.throws(() => readZip(bomb, () => true, { maxEntryBytes: 1 << 30, maxTotalBytes: 1024 * 1024 }), /decompresses to more than/);
  const long = Uint8Array.from([0x80, 0x04, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x2e]); // BINUNICODE8, 2^40 bytes
  assert.throws(() => unpickle(long), /exceeds the data size/);
  const big = Uint8Array.from([0x80, 0x02, 0x8b, 0x00, 0x00, 0x10, 0x00, 0x2e]); // LONG4 of 1 MiB
  assert.throws(() => unpickle(big), /longer than 1024 bytes/);
});

test('a .pt whose tensor reads past its storage, or whose storage is short, is refused', () => {
  const files = unzipSync(new Uint8Array(readFileSync(join(FIX, 'torch-gru.pt'))));
  const pkl = Object.keys(files).find((k) => k.endsWith('/data.pkl'))!;
  const dir = pkl.slice(0, -'/data.pkl'.length);
  const p = files[pkl];
  // The first tensor is weight_ih_l0 with size (15, 3): BININT1 15, BININT1 3, TUPLE2.
  const at = p.findIndex((_, i) => p[i] === 0x4b && p[i + 1] === 15 && p[i + 2] === 0x4b && p[i + 3] === 3 && p[i + 4] === 0x86);
  assert.ok(at > 0);
  const grown = new Uint8Array(p);
  grown[at + 1] = 200;
  assert.throws(() => open(zipSync({ ...files, [pkl]: grown }, { level: 0 }), 'torch-gru.pt'), /reads past its storage/);
  const short = { ...files, [`${dir}/data/0`]: files[`${dir}/data/0`].subarray(0, 8) };
  assert.throws(() => open(zipSync(short, { level: 0 }), 'torch-gru.pt'), /storage data\/0 has 2 values, the pickle says 45/);
  const noPkl = { ...files };
  delete noPkl[pkl];
  assert.throws(() => open(zipSync(noPkl, { level: 0 })), /neither a Keras 3 \.keras file nor a torch\.save checkpoint/);
  const legacy = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
  assert.throws(() => open(legacy), /legacy .*torch\.save format/);
});

test('fuzz: a thousand byte-mutated files never crash, hang or escape as non-format errors', () => {
  const r = fuzzFormats(1000, 2024, 3000);
  assert.deepEqual(r.failures, []);
  assert.ok(r.loaded > 0 && r.loaded < r.cases, 'mutations should break some files and leave some loadable');
});

test('fuzz: structure-aware mutations (pickle opcodes, zip directories, HDF5 messages, TF.js manifests, safetensors numbers) never crash or hang', () => {
  // By hand: node --import tsx scripts/fuzz-formats.ts 100000 --mutators=structure, and … structured 100000.
  const pz = fuzzFormats(1000, 7, 3000, 'structure');
  assert.deepEqual(pz.failures, []);
  const st = fuzzStructured(1000, 11, 3000);
  assert.deepEqual(st.failures, []);
  assert.ok(st.loaded > 0 && st.loaded < st.cases);
  assert.deepEqual(Object.keys(st.byKind).sort(), ['h5', 'keras', 'safetensors', 'tfjs']);
});

test('NeedsAnswers is not a FormatError: callers can tell questions from failures', () => {
  const b = new Uint8Array(readFileSync(join(FIX, 'torch-gru.safetensors')));
  assert.throws(
    () => openModelBytes(b, 'x', new AnswerBook()),
    (e: unknown) => e instanceof NeedsAnswers && !(e instanceof FormatError),
  );
});
