import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EventMetricsSink } from '../events/EventMetricsSink';

/** Metrics of the outbox, the relay, the stream and its consumer groups, dead letters and the retention jobs. */
export function createEventMetrics(registry: Registry): { events: EventMetricsSink } {
  const registers = [registry];
  const relayEnabled = new Gauge({ name: 'coaching_events_relay_enabled', help: '1 when REDIS_URL is set and the relay runs, 0 otherwise.', registers });
  const backlog = new Gauge({ name: 'coaching_events_outbox_backlog', help: 'Outbox events not yet published to the stream.', registers });
  const backlogAge = new Gauge({
    name: 'coaching_events_outbox_backlog_age_seconds',
    help: 'Age of the oldest outbox event not yet published (0 when none).',
    registers,
  });
  const published = new Counter({ name: 'coaching_events_published_total', help: 'Events the relay added to the stream.', registers });
  const alreadyPublished = new Counter({
    name: 'coaching_events_already_published_total',
    help: 'Events the relay found on the stream already (a crash between publish and mark, or another replica) and only marked.',
    registers,
  });
  const relayFailures = new Counter({ name: 'coaching_events_relay_failures_total', help: 'Relay rounds that failed (Redis or database).', registers });
  const streamLength = new Gauge({ name: 'coaching_events_stream_length', help: 'Entries in the events stream (XLEN).', registers });
  const pending = new Gauge({
    name: 'coaching_events_stream_pending',
    help: 'Entries delivered to a consumer group and not yet acknowledged, by group.',
    labelNames: ['group'] as const,
    registers,
  });
  const oldestPending = new Gauge({
    name: 'coaching_events_stream_oldest_pending_age_seconds',
    help: 'Idle time of the longest-pending entry of a consumer group (0 when none), by group.',
    labelNames: ['group'] as const,
    registers,
  });
  const deadLetters = new Gauge({ name: 'coaching_events_dead_letters', help: 'Entries in the dead-letter stream.', registers });
  const deadLettered = new Counter({
    name: 'coaching_events_dead_lettered_total',
    help: 'Entries the sweeper moved to the dead-letter stream, by group.',
    labelNames: ['group'] as const,
    registers,
  });
  const retentionDeleted = new Counter({
    name: 'coaching_retention_deleted_total',
    help: 'Rows deleted by the retention job, by table.',
    labelNames: ['table'] as const,
    registers,
  });
  const retentionSeconds = new Histogram({
    name: 'coaching_retention_run_seconds',
    help: 'Duration of one retention run (all batches), by table.',
    labelNames: ['table'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers,
  });

  return {
    events: {
      relayEnabled: (on: boolean) => relayEnabled.set(on ? 1 : 0),
      backlog(count: number, oldestAgeSeconds: number) {
        backlog.set(count);
        backlogAge.set(oldestAgeSeconds);
      },
      published(added: number, skipped: number) {
        published.inc(added);
        alreadyPublished.inc(skipped);
      },
      relayFailed: () => relayFailures.inc(),
      stream(length: number, groups: readonly { name: string; pending: number; oldestPendingSeconds: number }[], deadLetterLength: number) {
        streamLength.set(length);
        pending.reset();
        oldestPending.reset();
        for (const g of groups) {
          pending.set({ group: g.name }, g.pending);
          oldestPending.set({ group: g.name }, g.oldestPendingSeconds);
        }
        deadLetters.set(deadLetterLength);
      },
      deadLettered: (group: string, count: number) => deadLettered.inc({ group }, count),
      retention(table: 'outbox' | 'idempotency_keys', deleted: number, seconds: number) {
        retentionDeleted.inc({ table }, deleted);
        retentionSeconds.observe({ table }, seconds);
      },
    },
  };
}
