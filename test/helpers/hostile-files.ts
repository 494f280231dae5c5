/**
 * Hostile model files, one per class of issue 11, written into a folder: shared by the unit tests, the
 * Restricted Mode in-host tier and the fuzz script. Each entry says what a user must see (`error`: the one
 * clear line, or null when the file must open with a warning) and what must stay untouched.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import type { Architecture } from '../../core/model/architecture';
import { serializeModel } from '../../core/model/model-file';
import { createModel } from '../../core/model/network';
import { readSafetensors, writeSafetensors } from '../../core/model/safetensors';
import { Rng } from '../../core/util/rng';

const FORMATS = join(__dirname, '..', 'fixtures', 'formats');

export interface HostileFile {
  /** Short name of the class, e.g. "pickle-dag". */
  kind: string;
  path: string;
  /** What the user must be told (null: the file opens, with a warning). */
  error: RegExp | null;
  /** Files that must not exist afterwards (a payload's marker) … */
  mustNotExist?: string[];
  /** … and files whose bytes must not change (a symlink's target). */
  mustNotChange?: string[];
}

const SMALL: Architecture = {
  inputSize: 1,
  layers: [{ cell: 'gru', units: 4 }],
  readout: { units: 1, activation: 'linear', perStep: false },
  task: { name: 'copy', T: 20 },
};

/** Our model file with its architecture metadata rewritten by `edit` (tensors as saved). */
export function ownModelWith(
  edit: (arch: Record<string, unknown>) => void,
  tensorEdit?: (name: string, data: Float64Array) => void,
): Uint8Array {
  const bytes = serializeModel(createModel(SMALL, new Rng(3)));
  const { tensors, metadata } = readSafetensors(bytes);
  const arch = JSON.parse(metadata.architecture) as Record<string, unknown>;
  edit(arch);
  const out = new Map<string, { shape: number[]; data: Float64Array }>();
  for (const [name, t] of tensors) {
    const data = Float64Array.from(t.data);
    tensorEdit?.(name, data);
    out.set(name, { shape: t.shape, data });
  }
  return writeSafetensors(out, { ...metadata, architecture: JSON.stringify(arch) }, 'F64');
}

/** The torch-gru.pt fixture's zip entries, with its pickle's path. */
function torchPtEntries(): { files: Record<string, Uint8Array>; pkl: string; dir: string } {
  const files = unzipSync(new Uint8Array(readFileSync(join(FORMATS, 'torch-gru.pt'))));
  const pkl = Object.keys(files).find((k) => k.endsWith('/data.pkl'))!;
  return { files, pkl, dir: pkl.slice(0, -'/data.pkl'.length) };
}

function indexOfBytes(hay: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

function splice(a: Uint8Array, at: number, remove: number, insert: number[]): Uint8Array {
  return Uint8Array.from([...a.subarray(0, at), ...insert, ...a.subarray(at + remove)]);
}

/** A torch.save zip whose pickle is `pickle` (the other entries as in the fixture). */
function ptWithPickle(pickle: Uint8Array): Uint8Array {
  const { files, pkl } = torchPtEntries();
  return zipSync({ ...files, [pkl]: pickle }, { level: 0 });
}

const PROTO2 = [0x80, 0x02];
const STOP = 0x2e;
const NONE = 0x4e;

/** Writes every hostile file into `dir` and lists them. */
export function writeHostileFiles(dir: string): HostileFile[] {
  mkdirSync(dir, { recursive: true });
  const out: HostileFile[] = [];
  const put = (name: string, bytes: Uint8Array | string) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };

  // 1. A custom cell whose source is not the code its hash names: nothing may run.
  const marker = join(dir, 'PAYLOAD-RAN');
  put('payload.js', `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran'); module.exports = {};\n`);
  for (const [kind, source] of [
    ['custom-bad-hash', 'payload.js'],
    ['custom-absolute', join(dir, 'payload.js')],
    ['custom-dotdot', '../' + dir.split('/').pop() + '/payload.js'],
  ] as const) {
    const path = put(
      `${kind}.safetensors`,
      ownModelWith((a) => {
        (a.layers as Record<string, unknown>[])[0] = { cell: 'custom', units: 4, custom: { name: 'x', source, sha256: '0'.repeat(64) } };
      }),
    );
    out.push({ kind, path, error: /custom cell|sha256|hash|outside|trusted/i, mustNotExist: [marker] });
  }

  // 2. An answers sidecar that is a symlink to another file: answering must not write through it.
  const victim = put('victim.txt', 'precious\n');
  const ptPath = join(dir, 'sidecar-link.pt');
  writeFileSync(ptPath, readFileSync(join(FORMATS, 'torch-gru.pt')));
  symlinkSync(victim, `${ptPath}.rnnmemory.json`);
  out.push({ kind: 'sidecar-symlink', path: ptPath, error: null, mustNotChange: [victim] });

  // 3. Small files that declare huge work.
  out.push({
    kind: 'metadata-T-1e7',
    path: put(
      'huge-T.safetensors',
      ownModelWith((a) => ((a.task as Record<string, unknown>).T = 1e7)),
    ),
    error: /"task\.T" must be a positive integer up to 100000/,
  });
  const dag = [...PROTO2, 0x7d, NONE, ...Array.from({ length: 60 }, () => [0x32, 0x86]).flat(), NONE, 0x73, STOP]; // {((…),…): None}
  out.push({ kind: 'pickle-dag-key', path: put('pickle-dag.pt', ptWithPickle(Uint8Array.from(dag))), error: /no state dict of tensors/ });
  const deep = new Uint8Array(2 + 1 + 1_000_000 + 1);
  deep.set(PROTO2, 0);
  deep[2] = NONE;
  deep.fill(0x85, 3, 3 + 1_000_000); // TUPLE1 a million times
  deep[deep.length - 1] = STOP;
  out.push({ kind: 'pickle-deep', path: put('pickle-deep.pt', ptWithPickle(deep)), error: /nested more than 1000 levels deep/ });
  {
    const { files, pkl } = torchPtEntries();
    const p = files[pkl];
    // weight_ih_l0: size (15, 3), stride (3, 1) → size (8192, 8192), stride (0, 0) over the same storage.
    // In the pickle: BININT1 15, BININT1 3, TUPLE2, BINPUT 9, BININT1 3, BININT1 1, TUPLE2.
    const at = indexOfBytes(p, [0x4b, 15, 0x4b, 3, 0x86, 0x71, 9, 0x4b, 3, 0x4b, 1, 0x86]);
    if (at < 0) throw new Error('torch-gru.pt: size/stride pattern of weight_ih_l0 not found');
    const stride0 = splice(p, at, 12, [0x4d, 0x00, 0x20, 0x4d, 0x00, 0x20, 0x86, 0x71, 9, 0x4b, 0, 0x4b, 0, 0x86]);
    out.push({
      kind: 'stride-0',
      path: put('stride0.pt', zipSync({ ...files, [pkl]: stride0 }, { level: 0 })),
      error: /zero or overlapping strides are not supported/,
    });
  }
  {
    const { files, dir: d } = torchPtEntries();
    // 256 MB of zeros deflated to about 250 KB, in an entry the pickle never references.
    const bomb: Zippable = { ...files, [`${d}/data/99`]: [new Uint8Array(256 * 1024 * 1024), { level: 1 }] };
    out.push({ kind: 'zip-bomb-unreferenced', path: put('zip-bomb.pt', zipSync(bomb, { level: 0 })), error: null });
  }
  {
    const src = join(FORMATS, 'tfjs-gru-simple');
    const tdir = join(dir, 'tfjs-repeated');
    mkdirSync(tdir, { recursive: true });
    const json = JSON.parse(readFileSync(join(src, 'model.json'), 'utf8'));
    writeFileSync(join(tdir, 'big.bin'), new Uint8Array(1024 * 1024));
    json.weightsManifest[0].paths = Array.from({ length: 1000 }, () => 'big.bin');
    writeFileSync(join(tdir, 'model.json'), JSON.stringify(json));
    out.push({ kind: 'tfjs-repeated-shard', path: join(tdir, 'model.json'), error: /lists the shard "big\.bin" more than once/ });
    const ldir = join(dir, 'tfjs-symlink');
    mkdirSync(ldir, { recursive: true });
    const outside = put('outside-shard.bin', readFileSync(join(src, 'group1-shard1of1.bin')));
    symlinkSync(outside, join(ldir, 'group1-shard1of1.bin'));
    writeFileSync(join(ldir, 'model.json'), readFileSync(join(src, 'model.json')));
    out.push({ kind: 'tfjs-symlink-shard', path: join(ldir, 'model.json'), error: /resolves outside the model's folder/ });
  }

  // An HDF5 file whose gzip-chunked dataset declares 8192² values (test/fixtures/formats, made by
  // scripts/fixtures/make_hostile_h5.py).
  out.push({
    kind: 'h5-chunked-bomb',
    path: put('chunked.h5', readFileSync(join(FORMATS, 'hostile-h5-chunked-gzip.h5'))),
    error: /declares shape \[8192, 8192\], more than layer/,
  });

  // 4. Silently wrong: a NaN weight opens (with a warning); a truncated header is named as such.
  out.push({
    kind: 'nan-weight',
    path: put(
      'nan.safetensors',
      ownModelWith(
        () => undefined,
        (name, d) => (name.includes('kernel') ? (d[0] = NaN) : undefined),
      ),
    ),
    error: null,
  });
  const good = serializeModel(createModel(SMALL, new Rng(3)));
  out.push({
    kind: 'truncated-header',
    path: put('truncated.safetensors', good.subarray(0, 40)),
    error: /safetensors header is truncated/,
  });
  return out;
}
