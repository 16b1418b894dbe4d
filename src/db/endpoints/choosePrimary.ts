/**
 * Which endpoint is the primary, decided from what every endpoint said in one
 * probe round, and the fencing rule (README "Design decisions": failover and
 * fencing). Pure: no I/O, so every rule has its own unit test.
 *
 * - Every member of one replication cluster has the same system identifier;
 *   an endpoint with another one is a different cluster and is never used.
 * - A writable endpoint on a higher timeline than the primary's wins: a
 *   promoted standby always starts a new timeline, so this finds the new
 *   primary after a failover or a planned switchover without any reload.
 * - The primary that was replaced is fenced: it is never written to again,
 *   even when it comes back writable (split brain), until it is seen in
 *   recovery (it rejoined as a standby) or an operator chooses it.
 * - Two writable endpoints on the same, highest timeline that neither is
 *   the current primary: no primary (writes fail) rather than a guess.
 */

/** What one endpoint answered (or that it did not). */
export interface EndpointObservation {
  readonly key: string;
  readonly reachable: boolean;
  readonly inRecovery?: boolean;
  readonly systemId?: string;
  /** Timeline of a writable endpoint (from its current WAL file). */
  readonly timeline?: number;
}

export interface PrimaryState {
  /** The endpoint writes go to; kept while it is unreachable (it may come back) unless another is promoted. */
  readonly primary: string | undefined;
  /** The primary's timeline when it was last seen writable. */
  readonly timeline: number;
  /** Counts primary changes (failovers, operator choices). */
  readonly generation: number;
  readonly fenced: ReadonlySet<string>;
  /** The cluster's system identifier, once known. */
  readonly systemId: string | undefined;
}

export type PrimaryEvent =
  | { readonly kind: 'elected'; readonly key: string; readonly previous: string | undefined; readonly timeline: number }
  | { readonly kind: 'fenced'; readonly key: string; readonly why: string }
  | { readonly kind: 'unfenced'; readonly key: string; readonly why: string }
  | { readonly kind: 'foreign'; readonly key: string }
  | { readonly kind: 'ambiguous'; readonly keys: readonly string[] }
  | { readonly kind: 'lost'; readonly key: string };

export const initialPrimaryState: PrimaryState = { primary: undefined, timeline: 0, generation: 0, fenced: new Set(), systemId: undefined };

export function choosePrimary(state: PrimaryState, observations: readonly EndpointObservation[]): { state: PrimaryState; events: PrimaryEvent[] } {
  const events: PrimaryEvent[] = [];
  const fenced = new Set(state.fenced);
  const systemId = state.systemId ?? observations.find((o) => o.reachable && o.inRecovery === false)?.systemId;
  const member = (o: EndpointObservation): boolean => {
    if (systemId === undefined || o.systemId === undefined || o.systemId === systemId) return true;
    events.push({ kind: 'foreign', key: o.key });
    return false;
  };
  const reachable = observations.filter((o) => o.reachable && member(o));
  for (const o of reachable) {
    if (o.inRecovery === true && fenced.delete(o.key)) events.push({ kind: 'unfenced', key: o.key, why: 'it is a standby now' });
  }
  const writable = reachable.filter((o) => o.inRecovery === false && !fenced.has(o.key));
  const current = writable.find((o) => o.key === state.primary);
  const currentTimeline = current?.timeline ?? state.timeline;
  const newer = writable.filter((o) => (o.timeline ?? 0) > currentTimeline && o.key !== state.primary);
  const top = Math.max(0, ...newer.map((o) => o.timeline ?? 0));
  const best = newer.filter((o) => (o.timeline ?? 0) === top);

  let primary = state.primary;
  let timeline = currentTimeline;
  let generation = state.generation;
  const fence = (key: string, why: string): void => {
    if (!fenced.has(key)) events.push({ kind: 'fenced', key, why });
    fenced.add(key);
  };

  if (best.length === 1) {
    const winner = best[0]!;
    if (state.primary !== undefined) fence(state.primary, `replaced by ${winner.key} (timeline ${winner.timeline ?? 0})`);
    primary = winner.key;
    timeline = winner.timeline ?? 0;
    generation += 1;
    events.push({ kind: 'elected', key: winner.key, previous: state.primary, timeline });
  } else if (best.length > 1) {
    // Several promoted at once: keep a current primary that still answers, otherwise refuse to guess.
    if (current === undefined) {
      events.push({ kind: 'ambiguous', keys: best.map((o) => o.key) });
      if (state.primary !== undefined) events.push({ kind: 'lost', key: state.primary });
      primary = undefined;
    }
  } else if (state.primary !== undefined) {
    const seen = reachable.find((o) => o.key === state.primary);
    // Demoted in place (now a standby): there is no primary until one is promoted.
    if (seen?.inRecovery === true) {
      events.push({ kind: 'lost', key: state.primary });
      primary = undefined;
    }
  }
  // Anything else writable is a split brain: never written to.
  for (const o of writable) {
    if (o.key !== primary && !(best.length > 1 && best.includes(o))) {
      fence(o.key, primary === undefined ? 'writable without being the primary' : `writable while ${primary} is the primary`);
    }
  }
  return { state: { primary, timeline, generation, fenced, systemId }, events };
}

/** Operator override (admin listener): make `key` the primary now and fence every other writable endpoint at the next round. */
export function choosePrimaryByOperator(state: PrimaryState, key: string, others: readonly string[]): PrimaryState {
  const fenced = new Set(state.fenced);
  fenced.delete(key);
  for (const other of others) if (other !== key) fenced.add(other);
  return { ...state, primary: key, timeline: 0, generation: state.generation + 1, fenced };
}
