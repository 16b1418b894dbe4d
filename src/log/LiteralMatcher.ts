/** A found occurrence: code units [start, end) of the text, and which pattern. */
export interface LiteralMatch {
  readonly start: number;
  readonly end: number;
  readonly pattern: number;
}

/**
 * All occurrences of a fixed set of literal strings in one left-to-right
 * pass (Aho-Corasick over UTF-16 code units): O(text + patterns + matches),
 * whatever the text holds, unlike a regular expression with alternation or
 * a loop of `indexOf` per pattern. Built once per set of patterns.
 */
export class LiteralMatcher {
  /** Per state: next state by code unit. State 0 is the root. */
  readonly #next: Map<number, number>[] = [new Map<number, number>()];
  readonly #fail: number[] = [0];
  /** Per state: the patterns that end here, its own and those of its suffix states. */
  readonly #ends: number[][] = [[]];
  readonly #lengths: number[];
  /** Code units that start some pattern: outside a match, everything else is skipped cheaply. */
  readonly #starts = new Uint8Array(65536);

  constructor(readonly patterns: readonly string[]) {
    this.#lengths = patterns.map((p) => p.length);
    patterns.forEach((pattern, index) => {
      if (pattern === '') return;
      let state = 0;
      for (let i = 0; i < pattern.length; i++) {
        const unit = pattern.charCodeAt(i);
        let next = this.#next[state]!.get(unit);
        if (next === undefined) {
          next = this.#next.push(new Map()) - 1;
          this.#fail.push(0);
          this.#ends.push([]);
          this.#next[state]!.set(unit, next);
        }
        state = next;
      }
      this.#ends[state]!.push(index);
      this.#starts[pattern.charCodeAt(0)] = 1;
    });
    // Failure links, breadth first: the longest proper suffix that is also a prefix of some pattern.
    const queue = [...this.#next[0]!.values()];
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      for (const [unit, child] of this.#next[state]!) {
        queue.push(child);
        // Depth-one states keep the root; deeper ones follow their parent's link (never back to themselves).
        this.#fail[child] = this.#step(this.#fail[state]!, unit);
        this.#ends[child]!.push(...this.#ends[this.#fail[child]]!);
      }
    }
  }

  /** The state after reading `unit` in `state`. */
  #step(state: number, unit: number): number {
    for (;;) {
      const next = this.#next[state]!.get(unit);
      if (next !== undefined) return next;
      if (state === 0) return 0;
      state = this.#fail[state]!;
    }
  }

  /** Every occurrence of every pattern, in order of their end. */
  *matches(text: string): Generator<LiteralMatch> {
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if (state === 0 && this.#starts[unit] === 0) continue;
      state = this.#step(state, unit);
      for (const pattern of this.#ends[state]!) yield { start: i + 1 - this.#lengths[pattern]!, end: i + 1, pattern };
    }
  }
}
