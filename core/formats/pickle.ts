/**
 * A restricted unpickler for PyTorch checkpoints, in the spirit of torch.load(weights_only=True): it builds plain
 * values (None, bool, int, float, str, bytes, list, tuple, dict, set), OrderedDict, tensors and storages, and
 * refuses every other global by name before anything could be constructed. Nothing is ever executed: the
 * allowed "callables" are our own small functions below. Protocols 0–5 opcodes that such files use are read.
 */
import { clip, FormatError } from './errors';

export class PickleError extends FormatError {
  constructor(message: string) {
    super(`pickle: ${message}`);
    this.name = 'PickleError';
  }
}

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export class PyDict {
  readonly map = new Map<PyKey, PyValue>();
  constructor(readonly ordered = false) {}
}
export class PySet {
  constructor(readonly items: PyValue[]) {}
}
/** A storage named by a persistent id ('storage', type, key, location, numel), as torch.save writes it. */
export class StorageRef {
  constructor(
    readonly dtype: string,
    readonly key: string,
    readonly location: string,
    readonly numel: number,
  ) {}
}
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}
/** A storage type global such as torch.FloatStorage; only meaningful inside a persistent id. */
class StorageType {
  constructor(readonly dtype: string) {}
}
/** An allowed global: our implementation, called by REDUCE / NEWOBJ. */
class Callable {
  constructor(
    readonly name: string,
    readonly call: (args: PyValue[]) => PyValue,
  ) {}
}

export type PyKey = string | number | bigint | boolean | null;
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PySet
  | StorageRef
  | TensorRef
  | StorageType
  | Callable;

const STORAGE_DTYPES: Record<string, string> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

function intList(v: PyValue, what: string): number[] {
  const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!items) throw new PickleError(`${what} must be a tuple of integers`);
  return items.map((x) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw new PickleError(`${what} must hold non-negative integers`);
    return x;
  });
}

function rebuildTensor(args: PyValue[]): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw new PickleError('tensor without a storage (storage pickled by value is not supported)');
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
    throw new PickleError('tensor storage offset must be a non-negative integer');
  const sz = intList(size, 'tensor size');
  const st = intList(stride, 'tensor stride');
  if (sz.length !== st.length) throw new PickleError(`tensor size has ${sz.length} dims but stride has ${st.length}`);
  if (sz.length > 32) throw new PickleError('tensor has more than 32 dimensions');
  return new TensorRef(storage, offset, sz, st);
}

function makeDict(ordered: boolean): (args: PyValue[]) => PyValue {
  return (args) => {
    const d = new PyDict(ordered);
    if (args.length > 0) {
      const items = args[0];
      if (!(Array.isArray(items) || items instanceof PyTuple) || args.length > 1)
        throw new PickleError('OrderedDict(...) with unsupported arguments');
      for (const it of Array.isArray(items) ? items : items.items) {
        const pair = it instanceof PyTuple ? it.items : Array.isArray(it) ? it : null;
        if (!pair || pair.length !== 2) throw new PickleError('OrderedDict item is not a pair');
        d.map.set(asKey(pair[0]), pair[1]);
      }
    }
    return d;
  };
}

const ALLOWED: Record<string, (args: PyValue[]) => PyValue> = {
  'collections.OrderedDict': makeDict(true),
  'builtins.dict': makeDict(false),
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  'torch._utils._rebuild_tensor': rebuildTensor,
  'torch._utils._rebuild_parameter': (args) => args[0], // (data, requires_grad, hooks): the data is the tensor
  'torch._utils._rebuild_parameter_with_state': (args) => args[0],
  'torch.Size': (args) => new PyTuple(intList(args[0] ?? new PyTuple([]), 'torch.Size')),
  'builtins.set': (args) => new PySet(args.length ? listItems(args[0], 'set') : []),
  'builtins.frozenset': (args) => new PySet(args.length ? listItems(args[0], 'frozenset') : []),
  // Protocol 2 writes Python 3 bytes as _codecs.encode(latin-1 text, 'latin1').
  '_codecs.encode': (args) => {
    const [s, enc] = args;
    if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) throw new PickleError('_codecs.encode only with latin1 text');
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 255) throw new PickleError('_codecs.encode: character outside latin-1');
      out[i] = c;
    }
    return out;
  },
};

function listItems(v: PyValue, what: string): PyValue[] {
  if (Array.isArray(v)) return v;
  if (v instanceof PyTuple) return v.items;
  throw new PickleError(`${what}(...) needs a list`);
}

/** Longest rendering of a tuple key; beyond it the text is cut (such keys never name tensors). */
const MAX_KEY_CHARS = 256;

function asKey(v: PyValue): PyKey {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return v;
  if (v instanceof PyTuple) return tupleKey(v);
  throw new PickleError('unsupported dict key type');
}

/**
 * Tuple keys are kept readable, never looked up. Rendered iteratively within a character budget, walking each
 * tuple lazily (a stack of positions), so a tuple DAG (each level holding the one below twice) or a very wide or
 * deep tuple costs O(budget), not O(2^depth) or a call stack per level.
 */
function tupleKey(t: PyTuple): string {
  let out = '(';
  const frames: { t: PyTuple; i: number }[] = [{ t, i: 0 }];
  while (frames.length > 0 && out.length <= MAX_KEY_CHARS) {
    const f = frames[frames.length - 1];
    if (f.i === f.t.items.length) {
      out += f.t.items.length === 1 ? ',)' : ')';
      frames.pop();
      continue;
    }
    if (f.i > 0) out += ', ';
    const x = f.t.items[f.i++];
    if (x instanceof PyTuple) {
      out += '(';
      frames.push({ t: x, i: 0 });
    } else {
      out += String(asKey(x)).slice(0, MAX_KEY_CHARS);
    }
  }
  return frames.length > 0 ? `${out.slice(0, MAX_KEY_CHARS)}…` : out;
}

function resolveGlobal(module: string, name: string): PyValue {
  const full = `${module}.${name}`;
  if (module === 'torch' && Object.prototype.hasOwnProperty.call(STORAGE_DTYPES, name)) return new StorageType(STORAGE_DTYPES[name]);
  if (Object.prototype.hasOwnProperty.call(ALLOWED, full)) return new Callable(full, ALLOWED[full]);
  if (full === 'torch.storage._load_from_bytes') {
    throw new PickleError(
      'refused global torch.storage._load_from_bytes: storages pickled by value (pickle.dumps of a tensor) are not supported; save with torch.save',
    );
  }
  throw new PickleError(
    `refused global ${clip(full)}: only tensors, OrderedDict, lists, dicts, tuples and plain values are allowed (as torch.load(weights_only=True)); ` +
      'save the state_dict instead of the whole model object',
  );
}

export interface UnpickleOptions {
  /** Bound on the stack and on nested MARKs. */
  maxDepth?: number;
  /** Bound on how deeply containers nest (Python's own pickler cannot write much beyond its recursion limit of 1000). */
  maxNesting?: number;
  /** Bound on the values created, so a small pickle cannot build millions of objects (a state dict needs ~15 per tensor). */
  maxObjects?: number;
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/** Unpickles `data`; throws PickleError on anything outside the allow-list or any malformed input. */
export function unpickle(data: Uint8Array, opts: UnpickleOptions = {}): PyValue {
  const maxDepth = opts.maxDepth ?? 100_000;
  const maxNesting = opts.maxNesting ?? 1000;
  const maxObjects = opts.maxObjects ?? 1_000_000;
  let objects = 0;
  // Nesting depth of each container, updated as items go in. (A list filled before it is put into its parent can
  // hide depth from the parent; nothing here recurses over values, so this is a cap for real files, not a guard.)
  const depthOf = new WeakMap<object, number>();
  const levels = (v: PyValue): number => (typeof v === 'object' && v !== null ? (depthOf.get(v) ?? 0) : 0);
  const nest = <T extends PyValue & object>(c: T, items: Iterable<PyValue>): T => {
    let d = Math.max(1, levels(c));
    for (const x of items) d = Math.max(d, levels(x) + 1);
    if (d > maxNesting) throw new PickleError(`objects nested more than ${maxNesting} levels deep`);
    depthOf.set(c, d);
    return c;
  };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const memo = new Map<number, PyValue>();
  let stack: StackItem[] = [];
  const marks: StackItem[][] = [];
  let pos = 0;
  const need = (n: number): number => {
    if (n < 0 || pos + n > data.length) throw new PickleError(`truncated data at byte ${pos} (needs ${n} more bytes)`);
    const p = pos;
    pos += n;
    return p;
  };
  const u8 = () => data[need(1)];
  const u16 = () => view.getUint16(need(2), true);
  const u32 = () => view.getUint32(need(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(data.length)) throw new PickleError(`length ${v} exceeds the data size`);
    return Number(v);
  };
  const bytes = (n: number) => data.subarray(need(n), pos);
  const utf8 = (b: Uint8Array) => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      throw new PickleError('invalid UTF-8 string');
    }
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw new PickleError('truncated text line');
    const s = new TextDecoder('latin1').decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    if (stack.length === 0) throw new PickleError(`stack underflow at byte ${pos}`);
    const v = stack.pop()!;
    if (v === MARK) throw new PickleError(`unexpected MARK at byte ${pos}`);
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (stack.length === 0 || v === MARK) throw new PickleError(`stack underflow at byte ${pos}`);
    return v;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    if (marks.length === 0) throw new PickleError(`no MARK on the stack at byte ${pos}`);
    stack = marks.pop()!;
    if (items.includes(MARK)) throw new PickleError('nested MARK');
    return items as PyValue[];
  };
  /** Pushes a new value (`fresh`) or another reference to an existing one (DUP, GET). */
  const push = (v: PyValue, fresh = true) => {
    if (stack.length > maxDepth) throw new PickleError('stack too deep');
    if (fresh && ++objects > maxObjects) throw new PickleError(`more than ${maxObjects} objects`);
    stack.push(v);
  };
  const tuple = (items: PyValue[]): PyTuple => nest(new PyTuple(items), items);
  const getMemo = (i: number): PyValue => {
    if (!memo.has(i)) throw new PickleError(`memo key ${i} missing`);
    return memo.get(i)!;
  };
  const setItems = (d: PyValue, kv: PyValue[]) => {
    if (!(d instanceof PyDict)) throw new PickleError('SETITEM(S) on a non-dict');
    if (kv.length % 2) throw new PickleError('SETITEMS with an odd number of items');
    for (let i = 0; i < kv.length; i += 2) d.map.set(asKey(kv[i]), kv[i + 1]);
    nest(d, kv);
  };
  const appendTo = (l: PyValue, items: PyValue[]) => {
    if (!Array.isArray(l)) throw new PickleError('APPEND(S) on a non-list');
    for (const it of items) l.push(it);
    nest(l, items);
  };
  const call = (f: PyValue, args: PyValue): PyValue => {
    if (!(f instanceof Callable)) throw new PickleError(`REDUCE on a non-callable (${describe(f)})`);
    if (!(args instanceof PyTuple)) throw new PickleError(`${f.name}: arguments are not a tuple`);
    const r = f.call(args.items);
    return (r instanceof PyTuple || r instanceof PyDict || r instanceof PySet) && !depthOf.has(r) ? nest(r, args.items) : r;
  };
  const persistent = (pid: PyValue): PyValue => {
    const t = pid instanceof PyTuple ? pid.items : null;
    if (!t || t.length !== 5 || t[0] !== 'storage')
      throw new PickleError('unsupported persistent id (expected torch.save storage records)');
    const [, type, key, location, n] = t;
    if (!(type instanceof StorageType)) throw new PickleError(`persistent storage with an unknown type (${describe(type)})`);
    if (typeof key !== 'string' || !/^[0-9A-Za-z_]{1,64}$/.test(key)) throw new PickleError('persistent storage key must be a short name');
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
      throw new PickleError('persistent storage size must be a non-negative integer');
    return new StorageRef(type.dtype, key, typeof location === 'string' ? location : '?', n);
  };

  for (;;) {
    if (pos >= data.length) throw new PickleError('truncated data: no STOP opcode');
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw new PickleError('unsupported pickle protocol (> 5)');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP (like Python, returns the top and ignores anything left below it)
        return pop();
      case 0x28: // MARK
        if (marks.length > maxDepth) throw new PickleError('too many nested MARKs');
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length === 0) throw new PickleError('POP on an empty stack');
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top(), false);
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(longFrom(bytes(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = u32();
        if (n > 1024) throw new PickleError('integer longer than 1024 bytes');
        push(longFrom(bytes(n)));
        break;
      }
      case 0x49: {
        // INT (text)
        const s = line();
        if (s === '00' || s === '01') push(s === '01');
        else if (/^-?\d{1,300}$/.test(s)) push(toNumber(BigInt(s)));
        else throw new PickleError('malformed INT');
        break;
      }
      case 0x4c: {
        // LONG (text)
        const s = line().replace(/L$/, '');
        if (!/^-?\d{1,300}$/.test(s)) throw new PickleError('malformed LONG');
        push(toNumber(BigInt(s)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        push(view.getFloat64(need(8), false));
        break;
      case 0x46: {
        // FLOAT (text)
        const v = Number(line());
        if (Number.isNaN(v)) throw new PickleError('malformed FLOAT');
        push(v);
        break;
      }
      case 0x58: // BINUNICODE
        push(utf8(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(utf8(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        push(utf8(bytes(u64())));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        push(new TextDecoder('latin1').decode(bytes(view.getInt32(need(4), true))));
        break;
      case 0x55: // SHORT_BINSTRING
        push(new TextDecoder('latin1').decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        push(bytes(u64()).slice());
        break;
      case 0x96: // BYTEARRAY8
        push(bytes(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        push(new PyTuple([]));
        break;
      case 0x85: // TUPLE1
        push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        push(tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        push(tuple([pop(), b, c]));
        break;
      }
      case 0x74: // TUPLE
        push(tuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c:
        {
          // LIST
          const items = popMark();
          push(nest(items, items));
          break;
        }
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        appendTo(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendTo(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x8f: // EMPTY_SET
        push(new PySet([]));
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof PySet)) throw new PickleError('ADDITEMS on a non-set');
        for (const it of items) s.items.push(it); // not push(...items): a spread of 10^5+ items overflows the call stack
        nest(s, items);
        break;
      }
      case 0x91:
        {
          // FROZENSET
          const items = popMark();
          push(nest(new PySet(items), items));
          break;
        }
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: {
        // PUT (text)
        const s = line();
        if (!/^\d{1,10}$/.test(s)) throw new PickleError('malformed PUT');
        memo.set(Number(s), top());
        break;
      }
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        push(getMemo(u8()), false);
        break;
      case 0x6a: // LONG_BINGET
        push(getMemo(u32()), false);
        break;
      case 0x67: {
        // GET (text)
        const s = line();
        if (!/^\d{1,10}$/.test(s)) throw new PickleError('malformed GET');
        push(getMemo(Number(s)), false);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new PickleError('STACK_GLOBAL needs two strings');
        push(resolveGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const f = pop();
        push(call(f, args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        push(call(cls, args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(kwargs instanceof PyDict) || kwargs.map.size > 0) throw new PickleError('NEWOBJ_EX with keyword arguments is not supported');
        push(call(cls, args));
        break;
      }
      case 0x62: {
        // BUILD: only the state of an OrderedDict (state_dict's _metadata), which we drop
        const state = pop();
        const obj = top();
        if (!(obj instanceof PyDict) || !(state === null || state instanceof PyDict || state instanceof PyTuple)) {
          throw new PickleError(`BUILD on ${describe(obj)} is not supported`);
        }
        break;
      }
      case 0x51: // BINPERSID
        push(persistent(pop()));
        break;
      case 0x50: // PERSID (text): not written by torch.save
        throw new PickleError('text persistent ids are not supported');
      default:
        throw new PickleError(`unsupported or invalid opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`);
    }
  }
}

function longFrom(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return toNumber(v);
}

function toNumber(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function describe(v: PyValue | undefined): string {
  if (v === null) return 'None';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PyTuple) return 'a tuple';
  if (v instanceof PyDict) return 'a dict';
  if (v instanceof PySet) return 'a set';
  if (v instanceof TensorRef) return 'a tensor';
  if (v instanceof StorageRef) return 'a storage';
  if (v instanceof StorageType) return 'a storage type';
  if (v instanceof Callable) return v.name;
  return typeof v;
}
