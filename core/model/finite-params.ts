/**
 * Parameter values no engine computes with faithfully: NaN and ±Inf, and — where float32 is involved
 * (the fast engine, our float32 model files) — finite float64 values beyond the float32 range, which
 * become ±Infinity when converted. Training refuses them; trace and diagnose warn and go on.
 */

export interface NonFiniteFinding {
  tensor: string;
  /** First offending value and its flat index. */
  index: number;
  value: number;
  /** Offending values in the tensor. */
  count: number;
}

function scan(tensors: Iterable<[string, { data: ArrayLike<number> }]>, offends: (v: number) => boolean): NonFiniteFinding[] {
  const out: NonFiniteFinding[] = [];
  for (const [tensor, { data }] of tensors) {
    let first = -1;
    let count = 0;
    for (let i = 0; i < data.length; i++) {
      if (!offends(data[i])) continue;
      if (first < 0) first = i;
      count++;
    }
    if (count > 0) out.push({ tensor, index: first, value: data[first], count });
  }
  return out;
}

/** One finding per tensor holding NaN or ±Inf, or (float32) a value that becomes ±Inf in float32. */
export function findNonFinite(
  tensors: Iterable<[string, { data: ArrayLike<number> }]>,
  opts: { float32?: boolean } = {},
): NonFiniteFinding[] {
  return scan(tensors, opts.float32 ? (v) => !Number.isFinite(Math.fround(v)) : (v) => !Number.isFinite(v));
}

/** Only the values finite in float64 that overflow float32 (loaders already warn about NaN and ±Inf). */
export function findFloat32Overflow(tensors: Iterable<[string, { data: ArrayLike<number> }]>): NonFiniteFinding[] {
  return scan(tensors, (v) => Number.isFinite(v) && !Number.isFinite(Math.fround(v)));
}

/** Warnings for a model about to run on `engine`: the native and wasm engines compute in float32. */
export function engineWarnings(params: Iterable<[string, { data: ArrayLike<number> }]>, engine: string): string[] {
  if (engine !== 'native' && engine !== 'wasm') return [];
  return findFloat32Overflow(params).map(
    (f) =>
      `${describeFinding(f)}: the ${engine} engine computes in float32, where it is ±Infinity (--engine reference computes in float64)`,
  );
}

/** E.g. `tensor "layers.0.U_c" has NaN at index 4 (3 such values in all)`. */
export function describeFinding(f: NonFiniteFinding): string {
  const what = Number.isFinite(f.value) ? `${f.value} at index ${f.index}, beyond the float32 range` : `${f.value} at index ${f.index}`;
  const more = f.count > 1 ? ` (${f.count} such values in all)` : '';
  return `tensor "${f.tensor}" has ${what}${more}`;
}
