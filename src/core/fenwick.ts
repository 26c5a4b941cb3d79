/**
 * A Fenwick (binary indexed) tree over bucket sizes: prefix sums, point
 * updates and "which bucket holds position p" in O(log buckets).
 */
export class Fenwick {
  readonly #tree: number[];
  #total = 0;

  /** Builds in O(n) from the bucket sizes. */
  constructor(sizes: readonly number[]) {
    const n = sizes.length;
    const tree = new Array<number>(n + 1).fill(0);
    for (let i = 0; i < n; i++) {
      const size = sizes[i] ?? 0;
      this.#total += size;
      const at = i + 1;
      tree[at] = (tree[at] ?? 0) + size;
      const parent = at + (at & -at);
      if (parent <= n) tree[parent] = (tree[parent] ?? 0) + (tree[at] ?? 0);
    }
    this.#tree = tree;
  }

  get length(): number {
    return this.#tree.length - 1;
  }

  get total(): number {
    return this.#total;
  }

  /** Adds `delta` to bucket `i`. */
  add(i: number, delta: number): void {
    this.#total += delta;
    for (let at = i + 1; at < this.#tree.length; at += at & -at) {
      this.#tree[at] = (this.#tree[at] ?? 0) + delta;
    }
  }

  /** Sum of the sizes of buckets 0 … i−1. */
  before(i: number): number {
    let sum = 0;
    for (let at = i; at > 0; at -= at & -at) sum += this.#tree[at] ?? 0;
    return sum;
  }

  /**
   * The bucket holding position `p` (0 ≤ p < total) and p's offset inside it:
   * a descent over the implicit tree, no binary search over prefix sums.
   */
  seek(p: number): { bucket: number; offset: number } {
    let at = 0;
    let rest = p;
    let step = 1;
    while (step * 2 <= this.length) step *= 2;
    for (; step > 0; step >>= 1) {
      const next = at + step;
      const size = this.#tree[next];
      if (next <= this.length && size !== undefined && size <= rest) {
        at = next;
        rest -= size;
      }
    }
    return { bucket: at, offset: rest };
  }
}
