/** A growable ring buffer: O(1) push, shift and peek (no Array.shift on a large array). */
export class RingDeque<T> {
  #items: (T | undefined)[];
  #head = 0;
  #length = 0;

  constructor(capacity = 16) {
    this.#items = new Array(Math.max(2, capacity));
  }

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) % this.#items.length] = item;
    this.#length++;
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#length--;
    return item;
  }

  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  /** Keeps only the items `keep` accepts, in order (O(n); for compaction). */
  retain(keep: (item: T) => boolean): void {
    const kept: T[] = [];
    for (let i = 0; i < this.#length; i++) {
      const item = this.#items[(this.#head + i) % this.#items.length] as T;
      if (keep(item)) kept.push(item);
    }
    this.#items = new Array(Math.max(16, kept.length * 2));
    kept.forEach((item, i) => {
      this.#items[i] = item;
    });
    this.#head = 0;
    this.#length = kept.length;
  }

  #grow(): void {
    const next = new Array<T | undefined>(this.#items.length * 2);
    for (let i = 0; i < this.#length; i++) next[i] = this.#items[(this.#head + i) % this.#items.length];
    this.#items = next;
    this.#head = 0;
  }
}
