import { connect, constants, type ClientHttp2Session, type SecureClientSessionOptions } from 'node:http2';
import { HealthCheckRequest, HealthCheckResponse } from '../../src/generated/grpc/health/v1/health';

/**
 * A bare HTTP/2 connection to a gRPC server (node:http2, no gRPC library), to
 * observe what happens per connection: SETTINGS, PINGs, GOAWAY, the TLS
 * certificate the connection got.
 */
export interface RawConnection {
  readonly session: ClientHttp2Session;
  /** Every GOAWAY received: error code, debug data and when it arrived. */
  readonly goaways: { code: number; data: string; at: number }[];
  /** Times (ms) at which the server pinged this connection. */
  readonly serverPings: number[];
  /** Whether the connection has closed. */
  closed(): boolean;
  /** When it closed (ms), once it has. */
  closedAt(): number | undefined;
  close(): void;
}

export async function rawConnect(port: number, tls?: SecureClientSessionOptions): Promise<RawConnection> {
  const session = connect(tls === undefined ? `http://127.0.0.1:${port}` : `https://127.0.0.1:${port}`, tls);
  const goaways: { code: number; data: string; at: number }[] = [];
  const serverPings: number[] = [];
  let closedAt: number | undefined;
  session.on('goaway', (code, _lastStreamId, data) => goaways.push({ code, data: data?.toString('utf8') ?? '', at: Date.now() }));
  session.on('ping', () => serverPings.push(Date.now()));
  session.on('close', () => {
    closedAt = Date.now();
  });
  session.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  return { session, goaways, serverPings, closed: () => closedAt !== undefined, closedAt: () => closedAt, close: () => session.destroy() };
}

/** A gRPC message on the wire: uncompressed flag, 4-byte length, bytes. */
function frame(message: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** An open gRPC call on a raw connection. */
export interface RawCall {
  /** Response messages (without the 5-byte prefix) as they arrive. */
  readonly messages: Buffer[];
  /** grpc-status once the call ended (trailers, or trailers-only headers); undefined while open. */
  status(): number | undefined;
  /** Resolves when the stream has closed. */
  readonly ended: Promise<{ grpcStatus: number | undefined; rstCode: number }>;
  /** Whether the server has answered with response headers yet. */
  answered(): boolean;
  /** Resolves with the first response message (rejects if the stream closes without one). */
  readonly firstMessage: Promise<Buffer>;
  cancel(): void;
  /** Stops reading the response (the client's HTTP/2 window then stays closed). */
  pause(): void;
}

/** Starts a gRPC call with one request message (unary or server streaming). */
export function rawCall(session: ClientHttp2Session, path: string, request: Uint8Array): RawCall {
  const stream = session.request({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  const messages: Buffer[] = [];
  let buffered = Buffer.alloc(0);
  let grpcStatus: number | undefined;
  let answered = false;
  const readStatus = (headers: Record<string, unknown>): void => {
    if (headers['grpc-status'] !== undefined) grpcStatus = Number(headers['grpc-status']);
  };
  stream.on('response', (headers) => {
    answered = true;
    readStatus(headers);
  });
  stream.on('trailers', readStatus);
  let gotFirst: (message: Buffer) => void = () => undefined;
  const firstMessage = new Promise<Buffer>((resolve, reject) => {
    gotFirst = resolve;
    stream.once('close', () => reject(new Error('the stream closed without a message')));
  });
  firstMessage.catch(() => undefined);
  stream.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(1)) {
      const length = buffered.readUInt32BE(1);
      messages.push(buffered.subarray(5, 5 + length));
      if (messages.length === 1) gotFirst(messages[0]!);
      buffered = buffered.subarray(5 + length);
    }
  });
  stream.on('error', () => undefined);
  const ended = new Promise<{ grpcStatus: number | undefined; rstCode: number }>((resolve) =>
    stream.on('close', () => resolve({ grpcStatus, rstCode: stream.rstCode ?? constants.NGHTTP2_NO_ERROR })),
  );
  stream.end(frame(request));
  return {
    messages,
    status: () => grpcStatus,
    ended,
    firstMessage,
    answered: () => answered,
    cancel: () => stream.close(constants.NGHTTP2_CANCEL),
    pause: () => stream.pause(),
  };
}

/** grpc.health.v1 Check over a raw connection: the status name, or the grpc-status code on failure. */
export async function rawHealthCheck(session: ClientHttp2Session, service: string): Promise<string> {
  const call = rawCall(session, '/grpc.health.v1.Health/Check', HealthCheckRequest.encode({ service }).finish());
  const { grpcStatus } = await call.ended;
  const message = call.messages[0];
  if (grpcStatus !== 0 || message === undefined) return `grpc-status ${grpcStatus}`;
  return ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][HealthCheckResponse.decode(message).status] ?? 'UNRECOGNIZED';
}

/** A grpc.health.v1 Watch over a raw connection. */
export function rawHealthWatch(session: ClientHttp2Session, service: string): RawCall {
  return rawCall(session, '/grpc.health.v1.Health/Watch', HealthCheckRequest.encode({ service }).finish());
}

/** The statuses a Watch has received so far. */
export function watchStatuses(call: RawCall): string[] {
  return call.messages.map((m) => ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][HealthCheckResponse.decode(m).status] ?? 'UNRECOGNIZED');
}
