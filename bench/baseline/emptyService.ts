import type { ServiceDefinition } from '@grpc/grpc-js';

const identity = (value: Buffer): Buffer => value;

const rawMethod = (path: string) => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});

export const EMPTY_METHOD_PATH = '/bench.v1.Baseline/Empty';
export const EMPTY_RESPONSE = Buffer.alloc(0);
/** The bare server's outcomes so far, as JSON `{ method: { statusName: count } }` (bench/h2load.ts checks gRPC statuses with it). */
export const OUTCOMES_METHOD_PATH = '/bench.v1.Baseline/Outcomes';

/**
 * The bench's own methods on the bare server, in raw bytes with no
 * (de)serialisation: `Empty` (empty request and response: the ceiling of
 * grpc-js itself) and `Outcomes`.
 */
export const EmptyService: ServiceDefinition = {
  empty: rawMethod(EMPTY_METHOD_PATH),
  outcomes: rawMethod(OUTCOMES_METHOD_PATH),
};
