import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';

/** What a raw call ended with: the status code and message, the reply bytes on OK, and how long it took. */
export interface RawResult {
  readonly code: status;
  readonly details: string;
  readonly reply?: Buffer;
  readonly error?: ServiceError;
  readonly ms: number;
}

const identity = (bytes: Buffer): Buffer => bytes;

/**
 * A grpc-js client that sends request bytes exactly as given (identity
 * serializers), so a test can send what no generated client would: invalid
 * UTF-8, out-of-range numbers, truncated or garbled messages.
 */
export function rawClient(port: number) {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  return {
    client,
    /** One unary call of `path` ("/package.Service/Method") with `bytes`; settles, never rejects. */
    call(path: string, bytes: Uint8Array, deadlineMs: number): Promise<RawResult> {
      const started = performance.now();
      return new Promise((resolve) => {
        client.makeUnaryRequest(path, identity, identity, Buffer.from(bytes), new Metadata(), { deadline: Date.now() + deadlineMs }, (error, reply) => {
          const ms = performance.now() - started;
          resolve(error ? { code: error.code, details: error.details, error, ms } : { code: status.OK, details: '', reply: reply ?? Buffer.alloc(0), ms });
        });
      });
    },
    close: () => client.close(),
  };
}
