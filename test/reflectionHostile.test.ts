import { status } from '@grpc/grpc-js';
import { connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { ServerReflectionRequest, ServerReflectionResponse } from '../src/generated/grpc/reflection/v1/reflection';
import { useHarness } from './support/harness';
import type { TestService } from './support/testService';
import { waitFor } from './support/waitFor';

/**
 * Server reflection under requests no reflection client sends: empty or
 * unknown kinds, bytes that are not a request, huge names, a flood on one
 * stream from a client that reads nothing, and a stream left open while the
 * server drains. Driven over bare node:http2 (no gRPC library on the client).
 */
let svc: TestService;
const REFLECTION = '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo';

const h = useHarness({ env: { SHUTDOWN_TIMEOUT: '60' } });
beforeAll(() => ({ svc } = h));

function frame(message: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** A reflection stream over a bare HTTP/2 connection: write request bytes, read decoded answers. */
async function openStream(port: number, settings: { initialWindowSize?: number } = {}) {
  const session: ClientHttp2Session = connect(`http://127.0.0.1:${port}`, { settings });
  session.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  const stream: ClientHttp2Stream = session.request({ ':method': 'POST', ':path': REFLECTION, 'content-type': 'application/grpc', te: 'trailers' });
  const answers: Buffer[] = [];
  let buffered = Buffer.alloc(0);
  let grpcStatus: number | undefined;
  let closed = false;
  const readStatus = (headers: Record<string, unknown>): void => {
    if (headers['grpc-status'] !== undefined) grpcStatus = Number(headers['grpc-status']);
  };
  stream.on('response', readStatus);
  stream.on('trailers', readStatus);
  stream.on('error', () => undefined);
  stream.on('close', () => {
    closed = true;
  });
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(1)) {
      answers.push(buffered.subarray(5, 5 + buffered.readUInt32BE(1)));
      buffered = buffered.subarray(5 + buffered.readUInt32BE(1));
    }
  };
  return {
    session,
    stream,
    answers,
    read: () => stream.on('data', onData),
    write: (bytes: Uint8Array) => stream.write(frame(bytes)),
    status: () => grpcStatus,
    closed: () => closed,
    decoded: () => answers.map((a) => ServerReflectionResponse.decode(a)),
    close: () => session.destroy(),
  };
}

const request = (fields: Partial<ServerReflectionRequest>) => ServerReflectionRequest.encode({ host: '', ...fields }).finish();

describe('server reflection under odd requests', () => {
  it('answers an empty request and an unknown request kind with an error response, and the stream goes on', async () => {
    const s = await openStream(svc.service.port);
    try {
      s.read();
      s.write(new Uint8Array(0));
      // Field 99 (varint): a message_request kind this server does not know.
      s.write(Buffer.from([0x98, 0x06, 0x01]));
      s.write(request({ listServices: '' }));
      await waitFor('three answers', () => s.answers.length >= 3, { timeoutMs: 10_000 });
      const [empty, unknown, list] = s.decoded();
      expect(empty?.errorResponse?.errorCode).toBe(status.INVALID_ARGUMENT);
      expect(unknown?.errorResponse?.errorCode).toBe(status.INVALID_ARGUMENT);
      expect(list?.listServicesResponse?.service.map((x) => x.name)).toContain('coaching.v1.CoachingService');
      expect(s.closed()).toBe(false);
    } finally {
      s.close();
    }
  });

  it('ends the stream with INVALID_ARGUMENT on bytes that are not a request, at once', async () => {
    const s = await openStream(svc.service.port);
    try {
      s.read();
      s.write(Buffer.from([0x0a, 0xff, 0x01]));
      await waitFor('the stream to end with a status', () => s.status() !== undefined, { timeoutMs: 10_000 });
      expect(s.status()).toBe(status.INVALID_ARGUMENT);
    } finally {
      s.close();
    }
  });

  it('refuses a huge symbol name without echoing it back', async () => {
    const s = await openStream(svc.service.port);
    try {
      s.read();
      const huge = 'coaching.'.repeat(10_000);
      s.write(request({ fileContainingSymbol: huge }));
      s.write(request({ fileByFilename: huge }));
      s.write(request({ allExtensionNumbersOfType: huge }));
      s.write(request({ fileContainingExtension: { containingType: huge, extensionNumber: 1 } }));
      s.write(request({ host: huge, listServices: '' }));
      await waitFor('five answers', () => s.answers.length >= 5 || s.closed(), { timeoutMs: 10_000 });
      expect(s.decoded().map((a) => a.errorResponse?.errorCode)).toEqual(Array(5).fill(status.INVALID_ARGUMENT));
      for (const answer of s.answers) expect(answer.length).toBeLessThan(4096);
    } finally {
      s.close();
    }
  });

  it('stops reading requests while the client reads no answers (no unbounded buffering)', async () => {
    // A 64 KiB window the client never opens further: the server may send little. Each request asks for
    // the API's files with every import (tens of KiB); without back-pressure the server reads them all and
    // queues every answer in memory.
    const s = await openStream(svc.service.port, { initialWindowSize: 65_535 });
    try {
      s.stream.pause();
      const ask = request({ listServices: '' });
      const count = 40_000;
      for (let n = 0; n < count; n++) s.write(ask);
      const sent = count * (ask.length + 5);
      // Whatever the server read, it read by the time its receive window is exhausted (HTTP/2 flow control
      // lets the client send only what the server has consumed, plus one window).
      // Wait until the server stops taking requests: nothing left to send, or no progress for 1 s.
      let last = { length: Number.NaN, at: Date.now() };
      const left = await waitFor(
        'the server to stop reading',
        () => {
          const length = s.stream.writableLength;
          if (length === 0) return { length };
          if (length !== last.length) last = { length, at: Date.now() };
          return Date.now() - last.at > 1_000 && { length };
        },
        { timeoutMs: 30_000 },
      );
      expect(left.length).toBeGreaterThan(sent / 2);
    } finally {
      s.close();
    }
  });
});

describe('a reflection stream left open', () => {
  it('is ended by shutdown, which stays graceful and does not wait for the client', async () => {
    const other = await h.start({ SHUTDOWN_TIMEOUT: '60' });
    const s = await openStream(other.service.port);
    let stopped = false;
    try {
      s.read();
      s.write(request({ listServices: '' }));
      await waitFor('the first answer', () => s.answers.length >= 1, { timeoutMs: 10_000 });
      const stopping = other.stop().then(() => {
        stopped = true;
      });
      await waitFor('the stream to end with a status', () => s.status() !== undefined, { timeoutMs: 20_000 });
      expect(s.status()).toBe(status.UNAVAILABLE);
      await waitFor('shutdown to finish', () => stopped, { timeoutMs: 20_000 });
      await stopping;
      expect(other.logs.records().find((r) => r.msg === 'coaching-service stopped')?.shutdown).toBe('graceful');
    } finally {
      s.close();
      if (!stopped) await other.stop();
    }
  });
});
