import type { HealthEvent } from './types';

/** A page of the history, newest first, and the sequence number to continue below. */
export interface HealthEventPage {
  readonly events: readonly HealthEvent[];
  /** Pass as `beforeSeq` for older events; undefined when there are none. */
  readonly nextBeforeSeq: number | undefined;
}

/**
 * The most recent probe results in a fixed-size ring: memory stays bounded
 * however long the service runs, and the oldest results fall out first.
 */
export class HealthHistory {
  readonly #ring: (HealthEvent | undefined)[];
  #next = 0;
  #seq = 0;

  constructor(readonly capacity: number) {
    this.#ring = new Array<HealthEvent | undefined>(capacity);
  }

  add(event: Omit<HealthEvent, 'seq'>): HealthEvent {
    this.#seq += 1;
    const stored = { ...event, seq: this.#seq };
    this.#ring[this.#next] = stored;
    this.#next = (this.#next + 1) % this.capacity;
    return stored;
  }

  /** Events older than `beforeSeq` (all when undefined), newest first, optionally of one dependency. */
  list(query: { pageSize: number; beforeSeq?: number; dependency?: string }): HealthEventPage {
    const events: HealthEvent[] = [];
    let more = false;
    for (let i = 1; i <= this.capacity; i++) {
      const event = this.#ring[(this.#next - i + this.capacity) % this.capacity];
      if (event === undefined) break;
      if (query.beforeSeq !== undefined && event.seq >= query.beforeSeq) continue;
      if (query.dependency !== undefined && query.dependency !== '' && event.dependency !== query.dependency) continue;
      if (events.length === query.pageSize) {
        more = true;
        break;
      }
      events.push(event);
    }
    return { events, nextBeforeSeq: more ? events[events.length - 1]!.seq : undefined };
  }
}
