import type { ServiceDefinition } from '@grpc/grpc-js';

const identity = (value: Buffer): Buffer => value;

/**
 * A one-method service whose request and response are empty messages, sent
 * as raw bytes with no (de)serialisation: the ceiling of grpc-js itself.
 */
export const EmptyService: ServiceDefinition = {
  empty: {
    path: '/bench.v1.Baseline/Empty',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export const EMPTY_METHOD_PATH = '/bench.v1.Baseline/Empty';
export const EMPTY_RESPONSE = Buffer.alloc(0);
