import { instantToWire } from '../domain/instants';
import type { Timestamp } from '../generated/google/protobuf/timestamp';

/**
 * Response timestamps. The generated code maps google.protobuf.Timestamp as
 * a plain {seconds, nanos} message (ts-proto useDate=false), so the mappers
 * convert explicitly: requests through rules.instant (which validates the two
 * wire fields before anything folds them), responses here.
 */
export function timestampOf(date: Date): Timestamp {
  return instantToWire(date);
}

export function optionalTimestampOf(date: Date | undefined): Timestamp | undefined {
  return date === undefined ? undefined : instantToWire(date);
}
