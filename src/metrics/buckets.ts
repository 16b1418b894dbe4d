/** Histogram buckets in seconds, from 1 ms to 10 s: RPCs, queries, pool waits and probes alike. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const seconds = (ms: number): number => ms / 1000;
