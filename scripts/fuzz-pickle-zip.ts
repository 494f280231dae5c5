/**
 * Structure-aware mutations of zip-based model files (.pt, .keras) for scripts/fuzz-formats.ts: pickle opcodes
 * edited, inserted, deleted and swapped at opcode boundaries, with hostile motifs (tuple DAGs, deep nesting,
 * object floods, MARK floods, huge lengths, control characters, stride-0 and huge sizes); and zip header fields
 * (local, central, end records, data descriptors) set to extreme or neighbouring values, directory entries
 * duplicated or dropped, names changed, and zip bombs added or swapped in for storages.
 */
import { unzipSync } from 'fflate';
import type { Rng } from '../core/util/rng';
import { stored, writeZip, zeroBomb, type ZEntry } from './hostile-zip';

export interface Mutant {
  bytes: Uint8Array;
  what: string;
}

// ---- pickle opcodes ----

/** Opcodes with a fixed-size argument, and its size. */
const FIXED: Record<number, number> = { 0x80: 1, 0x95: 8, 0x4a: 4, 0x4b: 1, 0x4d: 2, 0x47: 8, 0x71: 1, 0x72: 4, 0x68: 1, 0x6a: 4 };
/** Opcodes with a length-prefixed argument, and the prefix's size. */
const COUNTED: Record<number, number> = {
  0x8a: 1,
  0x8b: 4,
  0x58: 4,
  0x8c: 1,
  0x8d: 8,
  0x54: 4,
  0x55: 1,
  0x42: 4,
  0x43: 1,
  0x8e: 8,
  0x96: 8,
};
/** Opcodes followed by newline-terminated text lines, and how many. */
const LINES: Record<number, number> = { 0x63: 2, 0x49: 1, 0x4c: 1, 0x46: 1, 0x70: 1, 0x67: 1, 0x50: 1, 0x53: 1, 0x56: 1 };
/** Argument-less opcodes worth inserting. */
const BARE = [
  0x28, 0x29, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x52, 0x5d, 0x61, 0x62, 0x65, 0x6c, 0x73, 0x74, 0x75, 0x7d, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89,
  0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x51, 0x64,
];

interface Op {
  at: number;
  end: number;
  op: number;
}

/** Splits a pickle into opcodes (as far as it can be followed). */
export function pickleOps(p: Uint8Array): Op[] {
  const ops: Op[] = [];
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  let i = 0;
  while (i < p.length) {
    const op = p[i];
    let end = i + 1;
    if (op in FIXED) end += FIXED[op];
    else if (op in COUNTED) {
      const w = COUNTED[op];
      if (end + w > p.length) break;
      const n = w === 1 ? p[end] : w === 4 ? v.getUint32(end, true) : Number(v.getBigUint64(end, true));
      end += w + n;
    } else if (op in LINES) {
      for (let k = 0; k < LINES[op]; k++) {
        const nl = p.indexOf(0x0a, end);
        if (nl < 0) return ops;
        end = nl + 1;
      }
    }
    if (end > p.length) break;
    ops.push({ at: i, end, op });
    i = end;
  }
  return ops;
}

const le = (n: number, bytes: number): number[] => {
  const out: number[] = [];
  let x = BigInt.asUintN(bytes * 8, BigInt(Math.trunc(n)));
  for (let i = 0; i < bytes; i++) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
  }
  return out;
};
const enc = new TextEncoder();
const EVIL = ['\x1b]0;pwned\x07', '\x1b[2J', '\u202eevil', 'a\x00b', '\x9b31m', 'storage', '0', 'cpu', 'state_dict', ''];
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

/** Hostile byte motifs, inserted at an opcode boundary. */
function motif(rng: Rng): { bytes: number[]; what: string } {
  const k = 1 + rng.int(rng.uniform() < 0.5 ? 64 : 200_000);
  switch (rng.int(10)) {
    case 0: {
      const n = 1 + rng.int(70);
      return { bytes: [0x4b, 0, ...Array.from({ length: n }, () => [0x32, 0x86]).flat()], what: `tuple DAG ×${n}` };
    }
    case 1:
      return { bytes: [0x4b, 0, ...new Array<number>(k).fill(0x85)], what: `nested TUPLE1 ×${k}` };
    case 2:
      return { bytes: Array.from({ length: k }, () => [0x5d, 0x30]).flat(), what: `EMPTY_LIST POP ×${k}` };
    case 3:
      return { bytes: new Array<number>(k).fill(0x28), what: `MARK ×${k}` };
    case 4: {
      const n = 1 + rng.int(32);
      return { bytes: Array.from({ length: n }, () => pick(rng, BARE)), what: `${n} random opcodes` };
    }
    case 5: {
      const s = enc.encode(pick(rng, EVIL));
      return { bytes: [0x58, ...le(s.length, 4), ...s], what: 'BINUNICODE with control characters' };
    }
    case 6: {
      const g = enc.encode(
        `${pick(rng, ['torch', 'collections', 'os', 'builtins', 'torch._utils'])}${pick(rng, EVIL)}\n${pick(rng, ['OrderedDict', 'FloatStorage', 'system', '_rebuild_tensor_v2'])}${pick(rng, EVIL)}\n`,
      );
      return { bytes: [0x63, ...g], what: 'GLOBAL with control characters' };
    }
    case 7:
      return {
        bytes: [pick(rng, [0x8d, 0x8e, 0x96]), ...le(pick(rng, [2 ** 40, 2 ** 31, 2 ** 53 - 1, 1e6]), 8)],
        what: 'huge 8-byte length',
      };
    case 8:
      return {
        bytes: rng.uniform() < 0.5 ? [0x68, rng.int(256)] : [0x6a, ...le(pick(rng, [0, 1, 2 ** 32 - 1, rng.int(1000)]), 4)],
        what: 'memo GET',
      };
    default:
      return { bytes: [0x4a, ...le(pick(rng, [0, 8192, 2 ** 31 - 1, -1, 1 << 26]), 4)], what: 'BININT extreme' };
  }
}

/** One structure-aware mutation of a pickle. */
export function mutatePickle(p: Uint8Array, rng: Rng): Mutant {
  const ops = pickleOps(p);
  if (ops.length < 2) return { bytes: p, what: 'unparsed pickle' };
  const o = ops[1 + rng.int(ops.length - 1)]; // keep PROTO
  const splice = (at: number, del: number, ins: number[]): Uint8Array => {
    const out = new Uint8Array(p.length - del + ins.length);
    out.set(p.subarray(0, at));
    out.set(ins, at);
    out.set(p.subarray(at + del), at + ins.length);
    return out;
  };
  switch (rng.int(8)) {
    case 0:
      return { bytes: splice(o.at, o.end - o.at, []), what: `delete op 0x${o.op.toString(16)} at ${o.at}` };
    case 1:
      return { bytes: splice(o.end, 0, [...p.subarray(o.at, o.end)]), what: `duplicate op 0x${o.op.toString(16)} at ${o.at}` };
    case 2: {
      const q = ops[1 + rng.int(ops.length - 1)];
      const [a, b] = o.at < q.at ? [o, q] : [q, o];
      if (a === b || a.end > b.at) return { bytes: p, what: 'swap (same op)' };
      const out = new Uint8Array([
        ...p.subarray(0, a.at),
        ...p.subarray(b.at, b.end),
        ...p.subarray(a.end, b.at),
        ...p.subarray(a.at, a.end),
        ...p.subarray(b.end),
      ]);
      return { bytes: out, what: `swap ops at ${a.at} and ${b.at}` };
    }
    case 3: {
      // Integer arguments: tensor sizes, strides, offsets, storage sizes, memo indices.
      const ints = ops.filter((x) => x.op === 0x4a || x.op === 0x4b || x.op === 0x4d);
      if (ints.length === 0) return { bytes: p, what: 'no ints' };
      const t = pick(rng, ints);
      const val = pick(rng, [0, 1, 255, 8192, 65535, 2 ** 31 - 1, -1, 1 << 26]);
      const bytes = t.op === 0x4b ? [0x4b, val & 0xff] : t.op === 0x4d ? [0x4d, ...le(val, 2)] : [0x4a, ...le(val, 4)];
      return { bytes: splice(t.at, t.end - t.at, bytes), what: `int at ${t.at} -> ${val}` };
    }
    case 4: {
      // All small ints in a window to 0 (stride-0 tensors) or to a big size.
      const to = rng.uniform() < 0.5 ? 0 : 255;
      const out = new Uint8Array(p);
      const from = o.at;
      let n = 0;
      for (const x of ops) {
        if (x.op === 0x4b && x.at >= from && x.at < from + 64) {
          out[x.at + 1] = to;
          n++;
        }
      }
      return { bytes: out, what: `${n} BININT1 near ${from} -> ${to}` };
    }
    case 5:
      return { bytes: splice(o.at, o.end - o.at, [pick(rng, BARE)]), what: `replace op at ${o.at}` };
    case 6: {
      const strs = ops.filter((x) => x.op === 0x58 || x.op === 0x8c);
      if (strs.length === 0) return { bytes: p, what: 'no strings' };
      const t = pick(rng, strs);
      const s = enc.encode(pick(rng, EVIL));
      const bytes = t.op === 0x8c ? [0x8c, s.length, ...s] : [0x58, ...le(s.length, 4), ...s];
      return { bytes: splice(t.at, t.end - t.at, bytes), what: `string at ${t.at} -> ${JSON.stringify(new TextDecoder().decode(s))}` };
    }
    default: {
      const m = motif(rng);
      return { bytes: splice(o.at, 0, m.bytes), what: `insert ${m.what} at ${o.at}` };
    }
  }
}

// ---- zip headers ----

const SIGS: Record<number, { kind: string; fields: [number, number][] }> = {
  0x04034b50: {
    kind: 'local',
    fields: [
      [6, 2],
      [8, 2],
      [14, 4],
      [18, 4],
      [22, 4],
      [26, 2],
      [28, 2],
    ],
  },
  0x02014b50: {
    kind: 'central',
    fields: [
      [8, 2],
      [10, 2],
      [16, 4],
      [20, 4],
      [24, 4],
      [28, 2],
      [30, 2],
      [32, 2],
      [34, 2],
      [42, 4],
    ],
  },
  0x06054b50: {
    kind: 'end',
    fields: [
      [4, 2],
      [6, 2],
      [8, 2],
      [10, 2],
      [12, 4],
      [16, 4],
      [20, 2],
    ],
  },
  0x06064b50: {
    kind: 'zip64 end',
    fields: [
      [24, 8],
      [32, 8],
      [40, 8],
      [48, 8],
    ],
  },
  0x07064b50: { kind: 'zip64 locator', fields: [[8, 8]] },
  0x08074b50: {
    kind: 'descriptor',
    fields: [
      [4, 4],
      [8, 4],
      [12, 4],
    ],
  },
};

function headers(b: Uint8Array): { at: number; sig: number }[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: { at: number; sig: number }[] = [];
  for (let i = 0; i + 4 <= b.length; i++) {
    if (b[i] !== 0x50 || b[i + 1] !== 0x4b) continue;
    const s = v.getUint32(i, true);
    if (s in SIGS) out.push({ at: i, sig: s });
  }
  return out;
}

function readField(v: DataView, at: number, w: number): number {
  return w === 2 ? v.getUint16(at, true) : w === 4 ? v.getUint32(at, true) : Number(v.getBigUint64(at, true));
}

function writeField(v: DataView, at: number, w: number, x: number): void {
  if (w === 2) v.setUint16(at, x & 0xffff, true);
  else if (w === 4) v.setUint32(at, x >>> 0, true);
  else v.setBigUint64(at, BigInt.asUintN(64, BigInt(Math.trunc(x))), true);
}

/** One header field set to an extreme, neighbouring or borrowed value; or a directory entry duplicated or dropped. */
export function mutateZipHeaders(b: Uint8Array, rng: Rng): Mutant {
  const hs = headers(b);
  if (hs.length === 0) return { bytes: b, what: 'no headers' };
  const out = new Uint8Array(b);
  const v = new DataView(out.buffer);
  const h = pick(rng, hs);
  const spec = SIGS[h.sig];
  if (spec.kind === 'central' && rng.uniform() < 0.2) {
    // Duplicate or drop this directory entry, keeping the end record's count and size consistent (or not).
    const len = 46 + v.getUint16(h.at + 28, true) + v.getUint16(h.at + 30, true) + v.getUint16(h.at + 32, true);
    const dup = rng.uniform() < 0.5;
    const m = dup
      ? new Uint8Array([...out.subarray(0, h.at + len), ...out.subarray(h.at, h.at + len), ...out.subarray(h.at + len)])
      : new Uint8Array([...out.subarray(0, h.at), ...out.subarray(h.at + len)]);
    if (rng.uniform() < 0.7) {
      const mv = new DataView(m.buffer);
      const end = headers(m)
        .filter((x) => x.sig === 0x06054b50)
        .pop();
      if (end) {
        const d = dup ? 1 : -1;
        mv.setUint16(end.at + 8, mv.getUint16(end.at + 8, true) + d, true);
        mv.setUint16(end.at + 10, mv.getUint16(end.at + 10, true) + d, true);
        mv.setUint32(end.at + 12, mv.getUint32(end.at + 12, true) + d * len, true);
      }
    }
    return { bytes: m, what: `${dup ? 'duplicate' : 'drop'} central entry at ${h.at}` };
  }
  const [off, w] = pick(rng, spec.fields);
  const at = h.at + off;
  if (at + w > out.length) return { bytes: b, what: 'field past the end' };
  const old = readField(v, at, w);
  const same = hs.filter((x) => x.sig === h.sig && x.at !== h.at);
  const max = w === 2 ? 0xffff : w === 4 ? 0xffffffff : 2 ** 53;
  const choices = [0, 1, max, old + 1, old - 1, old * 2, old + 1000, old * 1032, rng.int(2 ** 31)];
  if (same.length > 0) choices.push(readField(v, pick(rng, same).at + off, w));
  const x = Math.max(0, Math.min(max, pick(rng, choices)));
  writeField(v, at, w, x);
  return { bytes: out, what: `${spec.kind} field +${off} at ${h.at}: ${old} -> ${x}` };
}

/** Rewrites a .pt through the hostile writer with one entry's name, body or declared size changed, or a bomb added. */
export function mutateZipEntries(entries: ZEntry[], rng: Rng): Mutant {
  const es = entries.slice();
  const i = rng.int(es.length);
  const e = es[i];
  switch (rng.int(6)) {
    case 0:
      es.push({
        name: `${e.name.replace(/[^/]+$/, '')}${rng.int(100)}`,
        method: 8,
        body: zeroBomb(1 + rng.int(256)),
        size: rng.int(2 ** 32),
        crc: 0,
      });
      return { bytes: writeZip(es), what: 'unreferenced bomb entry' };
    case 1: {
      const mb = 1 + rng.int(512);
      es[i] = { ...e, method: 8, body: zeroBomb(mb), size: pick(rng, [e.size, mb * 2 ** 20, 2 ** 31, e.size + 1]) };
      return { bytes: writeZip(es), what: `entry ${e.name} -> ${mb} MiB bomb declaring ${es[i].size}` };
    }
    case 2:
      es[i] = { ...e, name: `${e.name}${pick(rng, EVIL)}` };
      return { bytes: writeZip(es), what: `rename ${e.name}` };
    case 3: {
      // A second local entry of that name, hidden from the directory.
      const other = stored(e.name, new Uint8Array(e.body.length).fill(0x40));
      return {
        bytes: writeZip(
          [...es.slice(0, i), other, ...es.slice(i)],
          es.map((x, j) => ({ e: x, at: j < i ? j : j + 1 })),
        ),
        what: `hidden duplicate of ${e.name}`,
      };
    }
    case 4: {
      const central = es.map((x, j) => ({ e: j === i ? { ...x, name: pick(rng, es).name } : x }));
      return { bytes: writeZip(es, central), what: `directory names ${e.name} as another entry` };
    }
    default: {
      const central = es.map((x, j) => ({ e: x, at: j === i ? rng.int(es.length) : j }));
      return { bytes: writeZip(es, central), what: `directory offset of ${e.name} moved` };
    }
  }
}

/** One structure-aware mutation of a zip-based model file. */
export function mutateStructure(b: Uint8Array, rng: Rng): Mutant {
  let entries: ZEntry[];
  try {
    entries = Object.entries(unzipSync(b)).map(([n, d]) => stored(n, d));
  } catch {
    return mutateZipHeaders(b, rng);
  }
  const pkl = entries.findIndex((e) => e.name.endsWith('/data.pkl'));
  const r = rng.uniform();
  if (pkl >= 0 && r < 0.5) {
    const m = mutatePickle(entries[pkl].body, rng);
    entries[pkl] = stored(entries[pkl].name, m.bytes);
    return { bytes: writeZip(entries), what: `pickle: ${m.what}` };
  }
  if (r < 0.8) return mutateZipHeaders(b, rng);
  return mutateZipEntries(entries, rng);
}
