import { credentials, Metadata, type Client, type ServiceDefinition, type ServiceError, type CallOptions, type ClientUnaryCall } from '@grpc/grpc-js';
import { CoachingServiceClient, CoachingServiceService } from '../../src/generated/coaching/v1/coaching_service';

export interface CallResult<T> {
  readonly response?: T;
  readonly error?: ServiceError;
  /** Response headers the server sent (x-request-id). */
  readonly headers?: Metadata;
}

export interface CallOpts {
  readonly metadata?: Record<string, string>;
  readonly deadlineMs?: number;
}

type Req<D, K extends keyof D> = D[K] extends { requestSerialize: (value: infer R) => Buffer } ? R : never;
type Res<D, K extends keyof D> = D[K] extends { responseDeserialize: (value: Buffer) => infer R } ? R : never;
type RawUnary = (
  request: unknown,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: unknown) => void,
) => ClientUnaryCall;

/**
 * Typed, promise-returning unary calls on a generated client. `call` settles
 * with the response or the error (never rejects); `ok` fails the test on an error.
 */
export function rpc<D extends ServiceDefinition>(client: Client, _definition: D) {
  const call = <K extends keyof D & string>(method: K, request: Req<D, K>, options: CallOpts = {}): Promise<CallResult<Res<D, K>>> => {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
    const callOptions: Partial<CallOptions> = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
    const fn = (client as unknown as Record<string, RawUnary>)[method]!;
    return new Promise((resolve) => {
      let headers: Metadata | undefined;
      const c = fn.call(client, request, metadata, callOptions, (error, response) => {
        resolve(error ? { error, headers } : { response: response as Res<D, K>, headers });
      });
      c.on('metadata', (m: Metadata) => {
        headers = m;
      });
    });
  };
  const ok = async <K extends keyof D & string>(method: K, request: Req<D, K>, options: CallOpts = {}): Promise<Res<D, K>> => {
    const result = await call(method, request, options);
    if (result.error) throw new Error(`${method}: expected OK, got ${result.error.code}: ${result.error.details}`);
    return result.response!;
  };
  return { call, ok };
}

export function coachingClient(port: number): CoachingServiceClient {
  return new CoachingServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
}

/** The coaching API of a client. */
export function coachingApi(client: CoachingServiceClient) {
  return rpc(client, CoachingServiceService);
}
