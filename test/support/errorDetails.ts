import type { ServiceError } from '@grpc/grpc-js';
import { BadRequest, ErrorInfo, RetryInfo } from '../../src/generated/google/rpc/error_details';
import { Status } from '../../src/generated/google/rpc/status';

/** The google.rpc.Status a client decodes from the grpc-status-details-bin trailer, with its known details unpacked. */
export function statusDetails(error: ServiceError) {
  const [raw] = error.metadata.get('grpc-status-details-bin');
  if (!Buffer.isBuffer(raw)) throw new Error(`no grpc-status-details-bin trailer on ${error.code}: ${error.details}`);
  const status = Status.decode(raw);
  const unpack = <T>(typeName: string, decode: (bytes: Uint8Array) => T): T | undefined => {
    const any = status.details.find((d) => d.typeUrl === `type.googleapis.com/${typeName}`);
    return any === undefined ? undefined : decode(any.value);
  };
  return {
    status,
    errorInfo: unpack('google.rpc.ErrorInfo', (b) => ErrorInfo.decode(b)),
    badRequest: unpack('google.rpc.BadRequest', (b) => BadRequest.decode(b)),
    retryInfo: unpack('google.rpc.RetryInfo', (b) => RetryInfo.decode(b)),
  };
}

/**
 * Asserts the call failed with `code` and `reason`, everywhere a client may
 * read them: the status code, the x-error-reason trailer, and the
 * google.rpc.Status (same code and message) with an ErrorInfo of domain
 * coaching.v1. Returns the decoded details for further checks.
 */
export function expectError(result: { error?: ServiceError; response?: unknown }, code: number, reason: string) {
  if (result.error === undefined) throw new Error(`expected ${reason} (${code}), got OK: ${JSON.stringify(result.response)}`);
  const error = result.error;
  expect({ code: error.code, reason: error.metadata.get('x-error-reason')[0], details: error.details }).toEqual({ code, reason, details: error.details });
  const decoded = statusDetails(error);
  expect(decoded.status.code).toBe(code);
  expect(decoded.status.message).toBe(error.details);
  expect(decoded.errorInfo).toMatchObject({ reason, domain: 'coaching.v1' });
  return decoded;
}
