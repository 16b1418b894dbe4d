/** What the events module reports; src/metrics implements it (Prometheus). */
export interface EventMetricsSink {
  relayEnabled(on: boolean): void;
  backlog(count: number, oldestAgeSeconds: number): void;
  /** Events a relay round added, and those it found on the stream already. */
  published(added: number, skipped: number): void;
  relayFailed(): void;
  stream(length: number, groups: readonly { name: string; pending: number; oldestPendingSeconds: number }[], deadLetterLength: number): void;
  deadLettered(group: string, count: number): void;
  retention(table: 'outbox' | 'idempotency_keys', deleted: number, seconds: number): void;
}
