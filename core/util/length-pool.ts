/**
 * Arrays kept for reuse, by length, up to a total number of values. A full pool makes room by forgetting
 * arrays of other lengths (shapes change between runs); an array that still does not fit is not kept.
 */
export class LengthPool<A extends { length: number }> {
  private readonly byLength = new Map<number, A[]>();
  private values = 0;

  /** `onForget` hears of every array that leaves the pool other than through take (eviction, clear). */
  constructor(
    private readonly maxValues: number,
    private readonly onForget?: (a: A) => void,
  ) {}

  /** A kept array of length n, or undefined. */
  take(n: number): A | undefined {
    const a = this.byLength.get(n)?.pop();
    if (a) this.values -= n;
    return a;
  }

  /** Keeps `a` for a later take; whether it was kept. */
  give(a: A): boolean {
    const n = a.length;
    if (n > this.maxValues) return false;
    for (const [size, list] of this.byLength) {
      if (this.values + n <= this.maxValues) break;
      if (size === n) continue;
      this.values -= size * list.length;
      this.byLength.delete(size);
      if (this.onForget) list.forEach(this.onForget);
    }
    if (this.values + n > this.maxValues) return false;
    const list = this.byLength.get(n) ?? [];
    list.push(a);
    this.byLength.set(n, list);
    this.values += n;
    return true;
  }

  clear(): void {
    if (this.onForget) for (const list of this.byLength.values()) list.forEach(this.onForget);
    this.byLength.clear();
    this.values = 0;
  }
}
