import { instantToWire } from '../../src/domain/instants';
import type { Timestamp } from '../../src/generated/google/protobuf/timestamp';

/** The wire timestamp of a Date (what a client sends). */
export function ts(date: Date | number): Timestamp {
  return instantToWire(typeof date === 'number' ? new Date(date) : date);
}

/** Epoch milliseconds of a timestamp a response carried (fails on an absent one). */
export function ms(timestamp: Timestamp | undefined): number {
  if (timestamp === undefined) throw new Error('expected a timestamp, got none');
  return Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1_000_000);
}
