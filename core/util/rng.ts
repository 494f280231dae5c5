/**
 * Seeded pseudo-random numbers with a state that can be saved and restored exactly
 * (xoshiro128**), so that a resumed training run draws the same batches as an uninterrupted one.
 */
export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private s: Uint32Array;

  constructor(seed: number | RngState = 1) {
    this.s = new Uint32Array(4);
    if (typeof seed === 'number') {
      const next = splitmix32(Math.floor(seed));
      for (let i = 0; i < 4; i++) this.s[i] = next();
      if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
    } else {
      this.setState(seed);
    }
  }

  getState(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  setState(state: RngState): void {
    if (!Array.isArray(state) || state.length !== 4 || state.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
      throw new Error('invalid RNG state: expected four 32-bit unsigned integers');
    }
    for (let i = 0; i < 4; i++) this.s[i] = state[i];
  }

  /** A new independent generator derived from this one's next outputs. */
  fork(): Rng {
    return new Rng([this.nextU32(), this.nextU32(), this.nextU32(), (this.nextU32() | 1) >>> 0]);
  }

  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal by Box–Muller (no cached spare, so the state alone determines the stream). */
  normal(): number {
    let u = this.uniform();
    while (u <= 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** k distinct integers from [0, n), in increasing order. */
  sampleWithoutReplacement(n: number, k: number): number[] {
    if (k > n) throw new Error(`cannot draw ${k} distinct values from ${n}`);
    const chosen = new Set<number>();
    // Floyd's algorithm: exactly k draws.
    for (let j = n - k; j < n; j++) {
      const t = this.int(j + 1);
      chosen.add(chosen.has(t) ? j : t);
    }
    return [...chosen].sort((a, b) => a - b);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(arr: T[] | Int32Array | Uint32Array): void {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
