import { randomUUID } from 'node:crypto';
import { Client, credentials, Metadata, type ChannelOptions, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { toClientError } from './errors';
import { describeMethods } from './methodKinds';
import { buildServiceConfig, DEFAULT_RETRY, type RetrySettings } from './serviceConfig';

/** TLS to the service; mTLS when a key and certificate are given. */
export interface ClientTlsOptions {
  /** CA bundle (PEM) that signs the server certificate; the system roots when omitted. */
  readonly rootCerts?: Buffer;
  readonly privateKey?: Buffer;
  readonly certChain?: Buffer;
  /** Name to verify the certificate against when it differs from the target's host. */
  readonly serverName?: string;
}

export interface ServiceClientOptions {
  /**
   * gRPC target. In Kubernetes, `dns:///<headless-service>.<namespace>.svc.cluster.local:50051`:
   * the name resolves to every ready pod and calls are spread round-robin over them.
   */
  readonly target: string;
  /** TLS settings, or `false` for plaintext (a trusted network or a mesh sidecar). */
  readonly tls: ClientTlsOptions | false;
  /** Deadline of a call that sets none (default 5000 ms). */
  readonly defaultDeadlineMs?: number;
  readonly retry?: Partial<RetrySettings>;
  /** HTTP/2 keepalive ping interval (default 30 s; the server must permit it) and how long to wait for the ack (10 s). */
  readonly keepaliveTimeMs?: number;
  readonly keepaliveTimeoutMs?: number;
  /** Further grpc-js channel options; they win over the ones set here. */
  readonly channelOptions?: ChannelOptions;
}

/** Per-call options. */
export interface ClientCallOptions {
  /** This call's deadline, from now; default `defaultDeadlineMs`. */
  readonly deadlineMs?: number;
  /** Request metadata (`x-request-id` for log correlation, ...). */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** Receives the response headers (e.g. `x-request-id`, later `x-data-source`). */
  readonly onHeaders?: (headers: Metadata) => void;
}

type RequestOf<M> = M extends { requestSerialize: (value: infer R) => Buffer } ? R : never;
type ResponseOf<M> = M extends { responseDeserialize: (value: Buffer) => infer R } ? R : never;

/** One promise-returning method per RPC; failures reject with a {@link CoachingServiceError} subclass. */
export type ServiceClient<D extends ServiceDefinition> = {
  readonly [K in keyof D]: (request: Partial<RequestOf<D[K]>>, options?: ClientCallOptions) => Promise<ResponseOf<D[K]>>;
} & {
  /** The underlying grpc-js client (channel state, waitForReady). */
  readonly grpcClient: Client;
  close(): void;
};

/**
 * A typed client of `definition`'s service over one channel set up for
 * calling it at scale: round_robin over every resolved address, keepalive,
 * a default deadline, and the retry policy of {@link buildServiceConfig}.
 * Writes that take a `request_id` get a fresh UUID when the caller gives
 * none, so the channel's retries of them are safe (a retry of the same bytes
 * replays the first result on the server).
 */
export function createServiceClient<D extends ServiceDefinition>(definition: D, options: ServiceClientOptions): ServiceClient<D> {
  const defaultDeadlineMs = options.defaultDeadlineMs ?? 5_000;
  const serviceConfig = buildServiceConfig(definition, { defaultDeadlineMs, retry: { ...DEFAULT_RETRY, ...options.retry } });
  const tls = options.tls;
  const channelCredentials =
    tls === false ? credentials.createInsecure() : credentials.createSsl(tls.rootCerts ?? null, tls.privateKey ?? null, tls.certChain ?? null);
  const client = new Client(options.target, channelCredentials, {
    'grpc.service_config': JSON.stringify(serviceConfig),
    // The resolver's own config must not replace ours (a DNS TXT record could).
    'grpc.service_config_disable_resolution': 1,
    'grpc.enable_retries': 1,
    'grpc.keepalive_time_ms': options.keepaliveTimeMs ?? 30_000,
    'grpc.keepalive_timeout_ms': options.keepaliveTimeoutMs ?? 10_000,
    'grpc.keepalive_permit_without_calls': 0,
    ...(tls !== false && tls.serverName !== undefined && { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName }),
    ...options.channelOptions,
  });

  const methods: Record<string, unknown> = {};
  for (const info of describeMethods(definition)) {
    const method = definition[info.key]!;
    methods[info.key] = (partial: Record<string, unknown>, call: ClientCallOptions = {}): Promise<unknown> => {
      const request = { ...(method.requestDeserialize(Buffer.alloc(0)) as Record<string, unknown>), ...partial };
      if (info.kind === 'idempotent-write' && (request.requestId === undefined || request.requestId === '')) request.requestId = randomUUID();
      const metadata = new Metadata();
      for (const [key, value] of Object.entries(call.metadata ?? {})) metadata.set(key, value);
      return new Promise((resolve, reject) => {
        const pending = client.makeUnaryRequest(
          method.path,
          method.requestSerialize,
          method.responseDeserialize,
          request,
          metadata,
          { deadline: Date.now() + (call.deadlineMs ?? defaultDeadlineMs) },
          (error: ServiceError | null, response?: unknown) => (error ? reject(toClientError(error)) : resolve(response)),
        );
        if (call.onHeaders !== undefined) pending.on('metadata', call.onHeaders);
        call.signal?.addEventListener('abort', () => pending.cancel(), { once: true });
      });
    };
  }
  return Object.assign(methods, { grpcClient: client, close: () => client.close() }) as unknown as ServiceClient<D>;
}
