import { credentials, Metadata, type Client, type ServiceError, type CallOptions } from '@grpc/grpc-js';
import { CoachingServiceClient } from '../../src/generated/coaching/v1/coaching_service';

export interface CallResult<T> {
  readonly response?: T;
  readonly error?: ServiceError;
  /** Response headers the server sent (x-request-id). */
  readonly headers?: Metadata;
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => { on(event: 'metadata', listener: (metadata: Metadata) => void): unknown };

/** Calls a unary method and settles with the response or the error (never rejects). */
export function call<Req, Res>(
  client: Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
  options: { metadata?: Record<string, string>; deadlineMs?: number } = {},
): Promise<CallResult<Res>> {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  const callOptions: Partial<CallOptions> = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
  return new Promise((resolve) => {
    let headers: Metadata | undefined;
    const c = method.call(client, request, metadata, callOptions, (error, response) => {
      resolve(error ? { error, headers } : { response, headers });
    });
    c.on('metadata', (m) => {
      headers = m;
    });
  });
}

/** Like {@link call} but returns the response and fails the test on an error. */
export async function ok<Req, Res>(client: Client, method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
  const result = await call(client, method, request);
  if (result.error) throw new Error(`expected OK, got ${result.error.code}: ${result.error.details}`);
  return result.response!;
}

export function coachingClient(port: number): CoachingServiceClient {
  return new CoachingServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
}
