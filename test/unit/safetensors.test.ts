import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSafetensors, writeSafetensors, SafetensorsError } from '../../core/model/safetensors';
import { Rng } from '../../core/util/rng';

/** Builds a safetensors file by hand (independent of the writer): header JSON or raw text, then data. */
function rawFile(header: unknown, data: ArrayLike<number> = [], headerLen?: bigint): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(headerLen ?? BigInt(json.length), 0);
  json.copy(out, 8);
  out.set(Array.from(data), 8 + json.length);
  return new Uint8Array(out);
}

function u16Bytes(values: number[]): number[] {
  const b = Buffer.alloc(2 * values.length);
  values.forEach((v, i) => b.writeUInt16LE(v, 2 * i));
  return [...b];
}

function sample(rng: Rng, n: number): Float64Array {
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = rng.normal() * 10 ** (rng.int(12) - 6);
  return d;
}

function sampleTensors(seed: number): Map<string, { shape: number[]; data: Float64Array }> {
  const rng = new Rng(seed);
  const m = new Map<string, { shape: number[]; data: Float64Array }>();
  m.set('b.kernel', { shape: [3, 5], data: sample(rng, 15) });
  m.set('a.bias', { shape: [5], data: sample(rng, 5) });
  m.set('c.scalar', { shape: [], data: Float64Array.of(-0.1) });
  m.set('d.empty', { shape: [0, 4], data: new Float64Array(0) });
  // values that are not exact in float32, plus edge values
  m.get('a.bias')!.data.set([0.1, -0, 1e-40, 3.4e38, -1 / 3]);
  return m;
}

const expectErr = (bytes: Uint8Array, re: RegExp, opts?: { maxHeaderBytes?: number }): void => {
  assert.throws(
    () => readSafetensors(bytes, opts),
    (e: unknown) => e instanceof SafetensorsError && re.test(e.message),
  );
};

test('F64 round trip is exact, metadata preserved', () => {
  const t = sampleTensors(1);
  const bytes = writeSafetensors(t, { hello: 'world', json: '{"a":1}', '': 'empty key' }, 'F64');
  const back = readSafetensors(bytes);
  assert.deepEqual(back.metadata, { hello: 'world', json: '{"a":1}', '': 'empty key' });
  assert.deepEqual([...back.tensors.keys()].sort(), [...t.keys()].sort());
  for (const [name, orig] of t) {
    const got = back.tensors.get(name)!;
    assert.equal(got.dtype, 'F64');
    assert.deepEqual(got.shape, orig.shape);
    assert.deepEqual(Array.from(got.data), Array.from(orig.data), name);
  }
});

test('F32 round trip equals Math.fround of the values', () => {
  const t = sampleTensors(2);
  const back = readSafetensors(writeSafetensors(t, {}, 'F32'));
  assert.deepEqual(back.metadata, {});
  for (const [name, orig] of t) {
    const got = back.tensors.get(name)!;
    assert.equal(got.dtype, 'F32');
    assert.deepEqual(got.shape, orig.shape);
    assert.deepEqual(Array.from(got.data), Array.from(orig.data, Math.fround), name);
  }
  // sanity: the fround really changed something, so the check above is meaningful
  assert.notEqual(back.tensors.get('a.bias')!.data[0], 0.1);
});

test('writer output matches an independent minimal parse', () => {
  const t = sampleTensors(3);
  const bytes = Buffer.from(writeSafetensors(t, { k: 'v' }, 'F32'));
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal(n % 8, 0, 'header length is a multiple of 8');
  const text = bytes.subarray(8, 8 + n).toString('utf8');
  assert.match(text, /^\{.*\} *$/s, 'JSON padded with trailing spaces');
  const header = JSON.parse(text) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  assert.deepEqual(header.__metadata__, { k: 'v' });
  const names = [...t.keys()].sort();
  let pos = 0;
  for (const name of names) {
    const e = header[name];
    assert.equal(e.dtype, 'F32');
    assert.deepEqual(e.shape, t.get(name)!.shape);
    assert.deepEqual(e.data_offsets, [pos, pos + 4 * t.get(name)!.data.length], `${name} laid out in sorted order`);
    t.get(name)!.data.forEach((v, i) => {
      assert.equal(bytes.readFloatLE(8 + n + pos + 4 * i), Math.fround(v));
    });
    pos = e.data_offsets[1];
  }
  assert.equal(bytes.length, 8 + n + pos, 'no trailing bytes');
  assert.equal(Object.keys(header).length, names.length + 1);
});

test('empty file with only a header is valid', () => {
  const r = readSafetensors(rawFile({}));
  assert.equal(r.tensors.size, 0);
  assert.deepEqual(r.metadata, {});
  const w = readSafetensors(writeSafetensors(new Map(), {}, 'F64'));
  assert.equal(w.tensors.size, 0);
});

test('F16 decoding of known bit patterns', () => {
  const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x3555, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x0000, 0x3800];
  const expected = [1, -2, 65504, 2 ** -24, 2 ** -14, 0.333251953125, -0, Infinity, -Infinity, NaN, 0, 0.5];
  const f = rawFile({ h: { dtype: 'F16', shape: [bits.length], data_offsets: [0, 2 * bits.length] } }, u16Bytes(bits));
  const t = readSafetensors(f).tensors.get('h')!;
  assert.equal(t.dtype, 'F16');
  assert.deepEqual(Array.from(t.data), expected); // deepEqual distinguishes -0 and matches NaN
});

test('BF16 decoding of known bit patterns', () => {
  const bits = [0x3f80, 0xc000, 0x4049, 0x0001, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0x3e80];
  const expected = [1, -2, 3.140625, 2 ** -133, -0, Infinity, -Infinity, NaN, 0.25];
  const f = rawFile({ h: { dtype: 'BF16', shape: [3, 3], data_offsets: [0, 18] } }, u16Bytes(bits));
  const t = readSafetensors(f).tensors.get('h')!;
  assert.deepEqual(t.shape, [3, 3]);
  assert.deepEqual(Array.from(t.data), expected);
});

test('integer and bool dtypes decode to float64', () => {
  const i64 = Buffer.alloc(16);
  i64.writeBigInt64LE(-5n, 0);
  i64.writeBigInt64LE(1n << 40n, 8);
  const i32 = Buffer.alloc(8);
  i32.writeInt32LE(-2147483648, 0);
  i32.writeInt32LE(7, 4);
  const i16 = Buffer.alloc(4);
  i16.writeInt16LE(-300, 0);
  i16.writeInt16LE(300, 2);
  const data = [...i64, ...i32, ...i16, 0xff, 0x80, 0xff, 0x01, 0x00, 0x01, 0x02];
  const f = rawFile(
    {
      a: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
      b: { dtype: 'I32', shape: [2], data_offsets: [16, 24] },
      c: { dtype: 'I16', shape: [2], data_offsets: [24, 28] },
      d: { dtype: 'I8', shape: [2], data_offsets: [28, 30] },
      e: { dtype: 'U8', shape: [1, 1], data_offsets: [30, 31] },
      f: { dtype: 'BOOL', shape: [4], data_offsets: [31, 35] },
    },
    data,
  );
  const t = readSafetensors(f).tensors;
  assert.deepEqual(Array.from(t.get('a')!.data), [-5, 2 ** 40]);
  assert.deepEqual(Array.from(t.get('b')!.data), [-2147483648, 7]);
  assert.deepEqual(Array.from(t.get('c')!.data), [-300, 300]);
  assert.deepEqual(Array.from(t.get('d')!.data), [-1, -128]);
  assert.deepEqual(Array.from(t.get('e')!.data), [255]);
  assert.deepEqual(Array.from(t.get('f')!.data), [1, 0, 1, 1]);
});

test('reads a subarray view with a non-zero byteOffset', () => {
  const file = writeSafetensors(new Map([['x', { shape: [2], data: Float64Array.of(1.5, -2.5) }]]), {}, 'F64');
  const padded = new Uint8Array(file.length + 3);
  padded.set(file, 3);
  assert.deepEqual(Array.from(readSafetensors(padded.subarray(3)).tensors.get('x')!.data), [1.5, -2.5]);
});

test('"__proto__" names stay plain keys', () => {
  const f = rawFile('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"__metadata__":{"__proto__":"x"}}', [9]);
  const r = readSafetensors(f);
  assert.deepEqual(Array.from(r.tensors.get('__proto__')!.data), [9]);
  assert.equal(Object.getPrototypeOf(r.metadata), Object.prototype);
  assert.ok(Object.prototype.hasOwnProperty.call(r.metadata, '__proto__'));
  const w = readSafetensors(writeSafetensors(new Map([['__proto__', { shape: [1], data: Float64Array.of(4) }]]), {}, 'F32'));
  assert.deepEqual(Array.from(w.tensors.get('__proto__')!.data), [4]);
});

test('file shorter than 8 bytes', () => {
  expectErr(new Uint8Array(0), /shorter than 8 bytes/);
  expectErr(new Uint8Array(7), /shorter than 8 bytes/);
});

test('oversized header: above the limit or larger than the file', () => {
  expectErr(rawFile({}, [], 0xffffffffffffffffn), /oversized header.*limit/);
  expectErr(rawFile({}, [], 100_000_001n), /oversized header.*limit/);
  expectErr(rawFile({}, [], 1000n), /oversized header.*larger than/);
  // an explicit smaller limit is honoured even when the header is otherwise fine
  const ok = rawFile({ __metadata__: { a: 'b'.repeat(100) } });
  assert.doesNotThrow(() => readSafetensors(ok));
  expectErr(ok, /oversized header.*limit of 64 bytes/, { maxHeaderBytes: 64 });
});

test('truncated file', () => {
  const bytes = writeSafetensors(sampleTensors(4), {}, 'F32');
  expectErr(bytes.subarray(0, bytes.length - 1), /truncated file/);
  expectErr(bytes.subarray(0, bytes.length - 40), /truncated file/);
});

test('malformed header: bad JSON, bad UTF-8, not an object', () => {
  expectErr(rawFile('{"a": {"dtype": "F32",'), /header is not valid JSON/);
  expectErr(rawFile(''), /header is not valid JSON/);
  const badUtf8 = rawFile('{"\u00e9":1}');
  badUtf8[10] = 0xff; // inside the two-byte é
  expectErr(badUtf8, /not valid UTF-8/);
  expectErr(rawFile('[]'), /not a JSON object/);
  expectErr(rawFile('null'), /not a JSON object/);
  expectErr(rawFile('42'), /not a JSON object/);
});

test('tensor entry missing fields or with wrong types', () => {
  const off = { data_offsets: [0, 4] };
  expectErr(rawFile({ w: { shape: [1], ...off } }, [0, 0, 0, 0]), /tensor "w": missing "dtype"/);
  expectErr(rawFile({ w: { dtype: 'F32', ...off } }, [0, 0, 0, 0]), /tensor "w": missing "shape"/);
  expectErr(rawFile({ w: { dtype: 'F32', shape: [1] } }, [0, 0, 0, 0]), /tensor "w": missing "data_offsets"/);
  expectErr(rawFile({ w: 5 }), /tensor "w": entry is not an object/);
  expectErr(rawFile({ w: { dtype: 3, shape: [1], ...off } }, [0, 0, 0, 0]), /"dtype" must be a string/);
  expectErr(rawFile({ w: { dtype: 'F32', shape: '1', ...off } }, [0, 0, 0, 0]), /"shape" must be an array/);
  expectErr(rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, [0, 0, 0, 0]), /"data_offsets" must be \[begin, end\]/);
  expectErr(rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, [0, 0, 0, 0]), /"data_offsets" must be/);
  expectErr(rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, [0, 0, 0, 0]), /begin 4 is after end 0/);
});

test('unknown dtype is named', () => {
  expectErr(rawFile({ w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, [0]), /unknown or unsupported dtype "F8_E4M3"/);
  expectErr(rawFile({ w: { dtype: 'toString', shape: [1], data_offsets: [0, 1] } }, [0]), /unknown or unsupported dtype "toString"/);
});

test('negative or non-integer shape dimensions', () => {
  expectErr(
    rawFile({ w: { dtype: 'U8', shape: [-1], data_offsets: [0, 0] } }),
    /shape dimensions must be non-negative integers \(got -1\)/,
  );
  expectErr(rawFile({ w: { dtype: 'U8', shape: [1.5], data_offsets: [0, 1] } }, [0]), /non-negative integers \(got 1.5\)/);
  expectErr(rawFile({ w: { dtype: 'U8', shape: ['2'], data_offsets: [0, 2] } }, [0, 0]), /non-negative integers/);
  expectErr(rawFile({ w: { dtype: 'U8', shape: [1e300], data_offsets: [0, 2] } }, [0, 0]), /non-negative integers/);
});

test('data_offsets must match dtype size × shape product', () => {
  expectErr(
    rawFile({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, new Array(12).fill(0)),
    /span 12 bytes but F32 shape \[2, 2\] needs 16 bytes/,
  );
  // huge shapes are rejected before any allocation, without overflow
  const big = 2 ** 52;
  expectErr(
    rawFile({ w: { dtype: 'F64', shape: [big, big, big], data_offsets: [0, 8] } }, new Array(8).fill(0)),
    /needs more than 2\^53 bytes/,
  );
  expectErr(
    rawFile({ w: { dtype: 'F64', shape: new Array(5000).fill(2), data_offsets: [0, 8] } }, new Array(8).fill(0)),
    /needs more than 2\^53 bytes/,
  );
  // a zero dimension makes a huge shape empty: valid
  const r = readSafetensors(rawFile({ w: { dtype: 'F64', shape: [big, 0, big], data_offsets: [0, 0] } }));
  assert.equal(r.tensors.get('w')!.data.length, 0);
});

test('offsets pointing past the data buffer are a truncated file, without allocating', () => {
  const n = 2 ** 50;
  expectErr(
    rawFile({ w: { dtype: 'U8', shape: [n], data_offsets: [0, n] } }, [1, 2, 3]),
    /truncated file: tensor "w" ends at data byte 1125899906842624/,
  );
});

test('overlapping tensors, holes and uncovered trailing bytes are refused', () => {
  const d8 = new Array(8).fill(0);
  expectErr(
    rawFile(
      { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [2], data_offsets: [2, 10] } },
      new Array(10).fill(0),
    ),
    /overlapping tensors: "b" \[2, 10\] overlaps "a" \[0, 4\]/,
  );
  expectErr(
    rawFile(
      { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } },
      d8.slice(0, 4),
    ),
    /overlapping tensors/,
  );
  expectErr(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, d8), /hole in data buffer: bytes \[0, 4\)/);
  expectErr(
    rawFile({ a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, b: { dtype: 'U8', shape: [2], data_offsets: [4, 6] } }, d8.slice(0, 6)),
    /hole in data buffer: bytes \[2, 4\) before tensor "b"/,
  );
  expectErr(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, d8), /not fully covered: 4 trailing bytes/);
  expectErr(rawFile({}, [1]), /not fully covered: 1 trailing bytes/);
  // zero-size tensors at a boundary are fine; out of order in the header is fine
  const ok = rawFile(
    {
      b: { dtype: 'U8', shape: [2], data_offsets: [2, 4] },
      z: { dtype: 'U8', shape: [0], data_offsets: [2, 2] },
      a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] },
    },
    [1, 2, 3, 4],
  );
  const t = readSafetensors(ok).tensors;
  assert.deepEqual(Array.from(t.get('a')!.data), [1, 2]);
  assert.deepEqual(Array.from(t.get('b')!.data), [3, 4]);
});

test('__metadata__ must map strings to strings', () => {
  expectErr(rawFile({ __metadata__: { a: 1 } }), /"__metadata__" value for key "a" is not a string \(got number\)/);
  expectErr(rawFile({ __metadata__: { a: null } }), /not a string \(got null\)/);
  expectErr(rawFile({ __metadata__: { a: { b: 'c' } } }), /not a string \(got object\)/);
  expectErr(rawFile({ __metadata__: ['a'] }), /"__metadata__" must be an object/);
  expectErr(rawFile({ __metadata__: 'x' }), /"__metadata__" must be an object/);
});

test('writer validates its input', () => {
  const bad = new Map([['x', { shape: [2, 2], data: new Float64Array(3) }]]);
  assert.throws(() => writeSafetensors(bad, {}, 'F32'), /needs 4 values, data has 3/);
  assert.throws(() => writeSafetensors(new Map([['x', { shape: [-1], data: new Float64Array(0) }]]), {}, 'F32'), /invalid shape/);
  assert.throws(() => writeSafetensors(new Map([['__metadata__', { shape: [0], data: new Float64Array(0) }]]), {}, 'F32'), /reserved/);
  assert.throws(() => writeSafetensors(new Map(), { a: 1 as unknown as string }, 'F32'), /not a string/);
  assert.throws(() => writeSafetensors(new Map(), {}, 'F16' as 'F32'), /cannot write dtype "F16"/);
});

test('fuzz: mutated files either parse or throw SafetensorsError', { timeout: 20_000 }, () => {
  const base = writeSafetensors(sampleTensors(5), { format: 'x', note: 'fuzz' }, 'F32');
  const headerLen = Number(Buffer.from(base).readBigUInt64LE(0));
  const rng = new Rng(1234);
  const jsonChars = '{}[]":,-0123456789eE .\\u';
  const deadline = Date.now() + 8000;
  let parsed = 0;
  let rejected = 0;
  for (let iter = 0; iter < 600 && Date.now() < deadline; iter++) {
    let b = Uint8Array.from(base);
    const nMut = 1 + rng.int(3);
    for (let m = 0; m < nMut; m++) {
      const kind = rng.int(6);
      if (kind === 0) {
        b[rng.int(b.length)] ^= 1 << rng.int(8);
      } else if (kind === 1) {
        b = b.slice(0, rng.int(b.length + 1));
      } else if (kind === 2 && b.length >= 8) {
        const choices = [BigInt(headerLen + rng.int(17) - 8), BigInt(rng.int(2 ** 32)) << BigInt(rng.int(33)), 0n, 2n ** 64n - 1n];
        new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, choices[rng.int(choices.length)]), true);
      } else if (kind === 3) {
        const at = rng.int(b.length + 1);
        const ins = Uint8Array.from({ length: 1 + rng.int(8) }, () => rng.int(256));
        b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
      } else if (kind === 4 && b.length > 8) {
        const at = rng.int(b.length);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1 + rng.int(4))]);
      } else if (b.length > 8) {
        // JSON-significant characters inside the header region
        const at = 8 + rng.int(Math.min(headerLen, b.length - 8));
        b[at] = jsonChars.charCodeAt(rng.int(jsonChars.length));
      }
    }
    try {
      const r = readSafetensors(b);
      for (const t of r.tensors.values())
        assert.equal(
          t.data.length,
          t.shape.reduce((x, y) => x * y, 1),
        );
      parsed++;
    } catch (e) {
      if (!(e instanceof SafetensorsError)) throw new Error(`iteration ${iter}: unexpected ${String(e)}`);
      rejected++;
    }
  }
  assert.ok(parsed + rejected >= 200, `only ${parsed + rejected} iterations ran`);
  assert.ok(rejected > 0 && parsed > 0, `parsed ${parsed}, rejected ${rejected}`);
});
