/** A found occurrence: code units [start, end) of the text, and which pattern. */
export interface LiteralMatch {
  readonly start: number;
  readonly end: number;
  readonly pattern: number;
}

/** Table entries beyond which the matcher keeps to its maps by default: 4 MiB of table. */
const MAX_TABLE_ENTRIES = 1 << 20;
const NONE: readonly LiteralMatch[] = Object.freeze([]);
/** Up to this many distinct first code units, the scan finds the next candidate with one indexOf per unit. */
const MAX_START_UNITS = 4;

/**
 * The first index ≥ `from` holding one of `units`, or -1. `cache` keeps each
 * unit's last found index (-2: not searched yet; -1: none left), so each unit's
 * searches move only forward and a whole scan stays linear in the text.
 */
function nextOf(text: string, units: readonly string[], cache: number[], from: number): number {
  let next = -1;
  for (let u = 0; u < units.length; u++) {
    let at = cache[u]!;
    if (at !== -1 && at < from) cache[u] = at = text.indexOf(units[u]!, from);
    if (at !== -1 && (next === -1 || at < next)) next = at;
  }
  return next;
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
  /**
   * The automaton as a dense table (goto and failure links folded into one step per code unit):
   * `#table[state * #width + #classOf[unit]]`. Code units that occur in no pattern are class 0,
   * which leads every state back to the root. Undefined when the table would be too large.
   */
  #classOf: Uint16Array | undefined;
  /** The code units that start a pattern, when they are few enough to look for with indexOf. */
  #startUnits: readonly string[] | undefined;
  #table: Int32Array | undefined;
  #width = 0;

  /** `maxTableEntries`: beyond this many table entries (states × distinct code units) the matcher keeps to its maps. */
  constructor(
    readonly patterns: readonly string[],
    { maxTableEntries = MAX_TABLE_ENTRIES }: { maxTableEntries?: number } = {},
  ) {
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
    this.#buildTable(queue, maxTableEntries);
  }

  /** The dense table, filled in breadth-first order so that each failure state's row is complete before it is copied. */
  #buildTable(breadthFirst: readonly number[], maxEntries: number): void {
    const classOf = new Uint16Array(65536);
    let classes = 1;
    for (const pattern of this.patterns)
      for (let i = 0; i < pattern.length; i++) if (classOf[pattern.charCodeAt(i)] === 0) classOf[pattern.charCodeAt(i)] = classes++;
    const states = this.#next.length;
    if (states * classes > maxEntries) return;
    const table = new Int32Array(states * classes);
    for (const state of [0, ...breadthFirst]) {
      const row = state * classes;
      const fallback = this.#fail[state]! * classes;
      for (let c = 1; c < classes; c++) table[row + c] = state === 0 ? 0 : table[fallback + c]!;
      for (const [unit, child] of this.#next[state]!) table[row + classOf[unit]!] = child;
    }
    const startUnits = [...new Set(this.patterns.filter((p) => p !== '').map((p) => p[0]!))];
    if (startUnits.length <= MAX_START_UNITS) this.#startUnits = startUnits;
    this.#classOf = classOf;
    this.#table = table;
    this.#width = classes;
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
    yield* this.all(text);
  }

  /**
   * The same as an array (empty in the common case of no occurrence). A plain
   * loop over the dense table, no generator: the generator's scan was three
   * quarters of the cost of scrubbing a log line.
   */
  all(text: string): readonly LiteralMatch[] {
    const table = this.#table;
    const classOf = this.#classOf;
    if (table === undefined || classOf === undefined) return this.#allByMaps(text);
    const width = this.#width;
    const startUnits = this.#startUnits;
    const nextStart = startUnits?.map(() => -2) ?? [];
    let found: LiteralMatch[] | undefined;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      // At the root, jump to the next code unit that starts a pattern (a native search) instead of stepping over the rest.
      if (state === 0 && startUnits !== undefined) {
        i = nextOf(text, startUnits, nextStart, i);
        if (i === -1) break;
      }
      const unit = classOf[text.charCodeAt(i)]!;
      if (unit === 0) {
        state = 0;
        continue;
      }
      state = table[state * width + unit]!;
      const ends = this.#ends[state]!;
      if (ends.length === 0) continue;
      found ??= [];
      for (const pattern of ends) found.push({ start: i + 1 - this.#lengths[pattern]!, end: i + 1, pattern });
    }
    return found ?? NONE;
  }

  /** The scan over the goto maps and failure links, for pattern sets whose table would be too large. */
  #allByMaps(text: string): readonly LiteralMatch[] {
    const found: LiteralMatch[] = [];
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if (state === 0 && this.#starts[unit] === 0) continue;
      state = this.#step(state, unit);
      for (const pattern of this.#ends[state]!) found.push({ start: i + 1 - this.#lengths[pattern]!, end: i + 1, pattern });
    }
    return found;
  }
}
