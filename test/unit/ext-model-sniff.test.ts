import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveModel, parseModel } from '../../core/model/model-file';
import { createModel } from '../../core/model/network';
import { writeSafetensors } from '../../core/model/safetensors';
import { Rng } from '../../core/util/rng';
import type { Architecture } from '../../core/model/architecture';
import { sniffHeaderBytes, sniffModelFile, MAX_SNIFF_HEADER_BYTES } from '../../core/model/model-sniff';

const arch: Architecture = {
  inputSize: 1,
  layers: [
    { cell: 'brc', units: 5 },
    { cell: 'lstm', units: 3 },
  ],
  readout: { units: 1, activation: 'linear', perStep: false },
  task: { name: 'copy', T: 30 },
};

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'ext-sniff-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A safetensors file built by hand: [u64 LE length][header JSON][data]. */
function rawFile(header: unknown, data = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test('a saved model is recognised with its architecture and parameter count', () => {
  withDir((dir) => {
    const model = createModel(arch, new Rng(3));
    const path = join(dir, 'm.safetensors');
    saveModel(path, model);
    const s = sniffModelFile(path);
    assert.equal(s.kind, 'model');
    if (s.kind !== 'model') return;
    assert.deepEqual(s.architecture, arch);
    let count = 0;
    for (const t of model.params.values()) count += t.data.length;
    assert.equal(s.paramCount, count);
    assert.equal(s.version, '1');
  });
});

test('only the header is read: a model whose tensor data is cut off is still recognised (the full parser rejects it)', () => {
  withDir((dir) => {
    const path = join(dir, 'cut.safetensors');
    saveModel(path, createModel(arch, new Rng(1)));
    const bytes = readFileSync(path);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    const cut = bytes.subarray(0, 8 + headerLen + 4);
    writeFileSync(path, cut);
    assert.throws(() => parseModel(new Uint8Array(cut)));
    assert.equal(sniffModelFile(path).kind, 'model');
  });
});

test('foreign and broken files are "other" with a reason, never an exception', () => {
  withDir((dir) => {
    const cases: [string, Uint8Array | string][] = [
      ['pt.safetensors', writeSafetensors(new Map([['w', { shape: [1], data: new Float64Array([1]) }]]), { format: 'pt' }, 'F32')],
      ['nometa.safetensors', writeSafetensors(new Map([['w', { shape: [1], data: new Float64Array([1]) }]]), {}, 'F32')],
      ['short.safetensors', new Uint8Array([1, 2, 3])],
      ['notjson.safetensors', rawFile({}).map((b, i) => (i === 8 ? 0x7b : i === 9 ? 0x7b : b))],
      ['badarch.safetensors', rawFile({ __metadata__: { format: 'rnn-memory-lens', version: '1', architecture: '{"inputSize":0}' } })],
      ['truncated-header.safetensors', rawFile({ __metadata__: {} }).subarray(0, 12)],
      ['huge-header.safetensors', rawFile({}, new Uint8Array(0), BigInt(MAX_SNIFF_HEADER_BYTES) + 1n)],
      ['text.safetensors', 'hello world, not a model'],
    ];
    for (const [name, content] of cases) {
      const p = join(dir, name);
      writeFileSync(p, content);
      const s = sniffModelFile(p);
      assert.equal(s.kind, 'other', name);
      if (s.kind === 'other') assert.ok(s.reason.length > 0, name);
      // Only a header that names our format is marked ours (the diagnostics worker then lets our loader report the damage).
      if (s.kind === 'other') assert.equal(s.ours, name === 'badarch.safetensors' ? true : undefined, name);
    }
    const missing = sniffModelFile(join(dir, 'missing.safetensors'));
    assert.equal(missing.kind, 'other');
  });
});

test('sniffHeaderBytes needs the whole header: fewer bytes than announced is "truncated"', () => {
  const bytes = rawFile({ __metadata__: { format: 'rnn-memory-lens', version: '1', architecture: JSON.stringify(arch) } });
  assert.equal(sniffHeaderBytes(bytes).kind, 'model');
  const r = sniffHeaderBytes(bytes.subarray(0, bytes.length - 1));
  assert.equal(r.kind, 'other');
  if (r.kind === 'other') assert.match(r.reason, /truncated/);
});
