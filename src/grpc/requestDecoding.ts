import type { ServiceDefinition } from '@grpc/grpc-js';
import { ValidationError } from '../domain/errors';

const UNDECODABLE = Symbol('undecodable request');

/** What a guarded deserializer hands on when the bytes are not a message of the method's request type. */
interface UndecodableRequest {
  readonly [UNDECODABLE]: string;
}

/**
 * The definition with request deserializers that never throw. grpc-js
 * answers a deserializer that throws with INTERNAL ("Error deserializing
 * request"), which tells the client and the alerts that the server is at
 * fault. Here bytes that do not decode (truncated, bad wire types, invalid
 * varints) become a marker instead, which the unary wrapper refuses as
 * INVALID_ARGUMENT before any handler runs.
 */
export function guardRequestDecoding<D extends ServiceDefinition>(definition: D): D {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer): unknown => {
          try {
            return method.requestDeserialize(bytes);
          } catch {
            return { [UNDECODABLE]: method.path } satisfies UndecodableRequest;
          }
        },
      },
    ]),
  ) as D;
}

/** Whether the request was bytes that did not decode (see {@link guardRequestDecoding}). */
export function isUndecodable(request: unknown): boolean {
  return typeof request === 'object' && request !== null && UNDECODABLE in request;
}

/** Throws INVALID_ARGUMENT when the request was bytes that did not decode (see {@link guardRequestDecoding}). */
export function refuseUndecodable(request: unknown): void {
  if (isUndecodable(request)) {
    const path = (request as UndecodableRequest)[UNDECODABLE];
    // An empty field path names the request message as a whole.
    throw new ValidationError([{ field: '', description: `the request is not a valid protobuf encoding of the request message of ${path}` }]);
  }
}
