import type { VectorMetric } from './vector-record.ts';
import { scoreRanksFirst } from './vector-score.ts';

/**
 * Keeps the best `k` of a stream of scored items (a bounded binary heap whose root is the worst kept),
 * so an exact search over n vectors costs O(n log k) and holds only k.
 */
export class TopK<T extends { score: number }> {
  readonly #k: number;
  readonly #better: (a: number, b: number) => boolean;
  readonly #heap: T[] = [];

  constructor(k: number, metric: VectorMetric) {
    this.#k = k;
    this.#better = (a, b) => scoreRanksFirst(metric, a, b);
  }

  /** Whether an item with this score would be kept (lets a caller skip building it). */
  admits(score: number): boolean {
    if (this.#heap.length < this.#k) return true;
    return this.#better(score, (this.#heap[0] as T).score);
  }

  push(item: T): void {
    if (this.#k === 0) return;
    const heap = this.#heap;
    if (heap.length < this.#k) {
      heap.push(item);
      this.#up(heap.length - 1);
    } else if (this.#better(item.score, (heap[0] as T).score)) {
      heap[0] = item;
      this.#down(0);
    }
  }

  /** Best first. */
  sorted(): T[] {
    return [...this.#heap].sort((a, b) =>
      this.#better(a.score, b.score) ? -1 : this.#better(b.score, a.score) ? 1 : 0,
    );
  }

  // The root is the worst kept: a parent is never better than its children.
  #up(i: number): void {
    const heap = this.#heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#better((heap[parent] as T).score, (heap[i] as T).score)) break;
      [heap[parent], heap[i]] = [heap[i] as T, heap[parent] as T];
      i = parent;
    }
  }

  #down(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < heap.length && this.#better((heap[worst] as T).score, (heap[left] as T).score)) worst = left;
      if (right < heap.length && this.#better((heap[worst] as T).score, (heap[right] as T).score)) worst = right;
      if (worst === i) return;
      [heap[worst], heap[i]] = [heap[i] as T, heap[worst] as T];
      i = worst;
    }
  }
}
