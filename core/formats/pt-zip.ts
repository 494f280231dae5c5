/**
 * PyTorch checkpoints written by torch.save (zip since PyTorch 1.6): `<dir>/data.pkl` holds the pickled object,
 * whose tensors point through persistent ids at raw storages `<dir>/data/<key>` (`<dir>/byteorder` says little or
 * big endian). The pickle goes through our restricted unpickler; tensors are gathered from storages with their
 * strides, bounds-checked.
 */
import { bf16ToNumber, f16ToNumber } from '../model/safetensors';
import { AnswerBook, clip, FormatError } from './errors';
import { describe, PyDict, TensorRef, unpickle, type PyValue, type StorageRef } from './pickle';
import { importStateDict, type ImportResult } from './pytorch-safetensors';
import { MAX_MODEL_VALUES, numel, shapeStr, type RawTensor } from './tensors';
import { DEFAULT_ZIP_LIMITS, inflateEntry, isZip, readZipDirectory, type ZipDirectory, type ZipLimits } from './zip';

const ITEMSIZE: Record<string, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** Keys under which training scripts commonly nest the model's state dict. */
const STATE_KEYS = ['state_dict', 'model_state_dict', 'model', 'model_state', 'net', 'network', 'module', 'weights', 'params'];

const ENTRY = /^([^/]+)\/(data\.pkl|byteorder|data\/[^/]+|constants\.pkl|code\/.*)$/;

/** data.pkl of a state dict is a few KB per thousand tensors; more is not a checkpoint we could use anyway. */
const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

export function openPtBytes(
  bytes: Uint8Array,
  book: AnswerBook,
  source: string,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): ImportResult & { kind: string } {
  if (!isZip(bytes)) {
    if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
      throw new FormatError(
        'this is the legacy (before PyTorch 1.6) torch.save format, which is not supported: re-save it with a current PyTorch',
      );
    }
    throw new FormatError('not a PyTorch checkpoint (a .pt/.pth file written by torch.save is a zip archive)');
  }
  const zip = readZipDirectory(bytes);
  const names = zip.names.filter((n) => ENTRY.test(n));
  const pkls = names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (names.some((n) => /^[^/]+\/(constants\.pkl|code\/)/.test(n))) {
    throw new FormatError(
      'this is a TorchScript archive (torch.jit.save), which is not supported: save model.state_dict() with torch.save',
    );
  }
  if (pkls.length !== 1)
    throw new FormatError(
      pkls.length === 0
        ? 'no data.pkl in the archive (not a torch.save checkpoint, or truncated)'
        : 'several data.pkl entries in the archive',
    );
  const dir = pkls[0].slice(0, -'/data.pkl'.length);
  // Only what the pickle references is ever inflated: data.pkl, byteorder, then the storages its tensors need.
  const pkl = inflateEntry(bytes, zip.entries.get(pkls[0])!, Math.min(MAX_PICKLE_BYTES, limits.maxEntryBytes));
  const orderEntry = zip.entries.get(`${dir}/byteorder`);
  const orderText = orderEntry ? new TextDecoder().decode(inflateEntry(bytes, orderEntry, 64)).trim() : 'little';
  if (orderText !== 'little' && orderText !== 'big') throw new FormatError(`unknown byteorder ${JSON.stringify(clip(orderText))}`);
  const root = unpickle(pkl);
  const { dict, where } = findStateDict(root);
  const warnings: string[] = [];
  if (where) warnings.push(`using the state dict stored under ${where}`);
  const refs: [string, TensorRef][] = [];
  for (const [k, v] of dict.map) if (v instanceof TensorRef) refs.push([String(k), v]);
  const storages = readStorages(bytes, zip, dir, refs, limits);
  const tensors = new Map<string, RawTensor>();
  for (const [name, t] of refs) tensors.set(name, gather(t, storages.get(t.storage.key)!, orderText === 'little'));
  const res = importStateDict(tensors, book, source);
  return { model: res.model, warnings: [...warnings, ...res.warnings], kind: 'PyTorch checkpoint (torch.save)' };
}

/**
 * Checks every tensor against its storage and the limits, then inflates each referenced storage only as far as
 * its tensors read, all before allocating anything the size of a tensor.
 */
function readStorages(
  bytes: Uint8Array,
  zip: ZipDirectory,
  dir: string,
  refs: [string, TensorRef][],
  limits: ZipLimits,
): Map<string, Uint8Array> {
  const extent = new Map<string, { storage: StorageRef; values: number }>();
  let total = 0;
  for (const [name, t] of refs) {
    const s = t.storage;
    const what = `tensor "${clip(name)}"`;
    if (!(s.dtype in ITEMSIZE)) throw new FormatError(`${what}: unsupported storage dtype ${s.dtype}`);
    const seen = extent.get(s.key);
    if (seen && (seen.storage.dtype !== s.dtype || seen.storage.numel !== s.numel)) {
      throw new FormatError(`${what}: storage data/${s.key} is declared twice with different types or sizes`);
    }
    const n = numel(t.size);
    let last = t.offset;
    for (let d = 0; d < t.size.length; d++) last += (t.size[d] - 1) * t.stride[d];
    if (n > 0 && last >= s.numel) {
      throw new FormatError(`${what} (shape ${clip(shapeStr(t.size))}, offset ${t.offset}) reads past its storage of ${s.numel} values`);
    }
    if (n > s.numel) {
      // Only zero or overlapping strides (expand(), as_strided) give more values than the storage holds.
      throw new FormatError(
        `${what} (shape ${clip(shapeStr(t.size))}) has ${n} values but its storage holds ${s.numel}: zero or overlapping strides are not supported (save t.contiguous())`,
      );
    }
    total += n;
    if (total > MAX_MODEL_VALUES) throw new FormatError(`checkpoint too large: more than ${MAX_MODEL_VALUES} values`);
    extent.set(s.key, { storage: s, values: Math.max(seen?.values ?? 0, n > 0 ? last + 1 : 0) });
  }
  // The bytes inflated are bounded by what the tensors read, and at most what the largest model we accept needs.
  const budget = Math.min(limits.maxTotalBytes, MAX_MODEL_VALUES * 8);
  let inflated = 0;
  const out = new Map<string, Uint8Array>();
  for (const [key, { storage: s, values }] of extent) {
    const entry = zip.entries.get(`${dir}/data/${key}`);
    if (!entry) throw new FormatError(`storage data/${key} is missing (truncated archive?)`);
    const itemsize = ITEMSIZE[s.dtype];
    const avail = Math.floor(entry.size / itemsize);
    if (avail < s.numel) throw new FormatError(`storage data/${key} has ${avail} values, the pickle says ${s.numel}`);
    // torch.save writes exactly the storage's bytes; a larger entry would only cost inflating what nothing reads.
    if (entry.size !== s.numel * itemsize) {
      throw new FormatError(
        `storage data/${key} holds ${entry.size} bytes, but the pickle declares ${s.numel} ${s.dtype} values (${s.numel * itemsize} bytes)`,
      );
    }
    inflated += values * itemsize;
    if (inflated > budget) throw new FormatError(`checkpoint too large: its tensors read more than ${budget} bytes of storage`);
    out.set(key, inflateEntry(bytes, entry, limits.maxEntryBytes, values * itemsize));
  }
  return out;
}

function tensorCount(d: PyDict): number {
  let n = 0;
  for (const v of d.map.values()) if (v instanceof TensorRef) n++;
  return n;
}

function findStateDict(root: PyValue): { dict: PyDict; where?: string } {
  if (!(root instanceof PyDict))
    throw new FormatError(`the checkpoint holds ${describe(root)}, not a state dict (save model.state_dict())`);
  if (tensorCount(root) > 0) return { dict: root };
  for (const k of STATE_KEYS) {
    const v = root.map.get(k);
    if (v instanceof PyDict && tensorCount(v) > 0) return { dict: v, where: `checkpoint["${k}"]` };
  }
  const nested = [...root.map].filter(([, v]) => v instanceof PyDict && tensorCount(v) > 0);
  if (nested.length === 1) return { dict: nested[0][1] as PyDict, where: `checkpoint[${JSON.stringify(String(nested[0][0]))}]` };
  const keys = [...root.map.keys()].slice(0, 10).map((k) => JSON.stringify(clip(String(k), 40)));
  throw new FormatError(`no state dict of tensors found in the checkpoint (top-level keys: ${keys.join(', ')})`);
}

/** Copies a tensor out of its (already checked) storage, following its strides. */
function gather(t: TensorRef, raw: Uint8Array, little: boolean): RawTensor {
  const n = numel(t.size);
  const out = new Float64Array(n);
  if (n === 0) return { shape: t.size.slice(), data: out };
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const read = reader(t.storage.dtype, v, little);
  const dims = t.size.length;
  const idx = new Array<number>(dims).fill(0);
  let off = t.offset;
  for (let i = 0; i < n; i++) {
    out[i] = read(off);
    // Row-major odometer over the indices, moving the storage offset by the strides.
    for (let d = dims - 1; d >= 0; d--) {
      idx[d]++;
      off += t.stride[d];
      if (idx[d] < t.size[d]) break;
      off -= t.stride[d] * t.size[d];
      idx[d] = 0;
    }
  }
  return { shape: t.size.slice(), data: out };
}

function reader(dtype: string, v: DataView, le: boolean): (i: number) => number {
  switch (dtype) {
    case 'float32':
      return (i) => v.getFloat32(4 * i, le);
    case 'float64':
      return (i) => v.getFloat64(8 * i, le);
    case 'float16':
      return (i) => f16ToNumber(v.getUint16(2 * i, le));
    case 'bfloat16':
      return (i) => bf16ToNumber(v.getUint16(2 * i, le));
    case 'int64':
      return (i) => Number(v.getBigInt64(8 * i, le));
    case 'int32':
      return (i) => v.getInt32(4 * i, le);
    case 'int16':
      return (i) => v.getInt16(2 * i, le);
    case 'int8':
      return (i) => v.getInt8(i);
    case 'uint8':
      return (i) => v.getUint8(i);
    case 'bool':
      return (i) => (v.getUint8(i) ? 1 : 0);
    default:
      throw new FormatError(`unsupported storage dtype ${dtype}`);
  }
}
