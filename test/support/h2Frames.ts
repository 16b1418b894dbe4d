import { connect, type Socket } from 'node:net';

/** One HTTP/2 frame as read off the wire. */
export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7 } as const;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** HPACK "literal header field without indexing, new name" (RFC 7541 6.2.2), no Huffman: enough for short ASCII headers. */
function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name);
  const v = Buffer.from(value);
  if (n.length > 126 || v.length > 126) throw new Error('header too long for this tiny encoder');
  return Buffer.concat([Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v]);
}

/**
 * A hand-written HTTP/2 client over plain TCP that does what a real client
 * library would not: ignore the server's SETTINGS (e.g. open more streams than
 * SETTINGS_MAX_CONCURRENT_STREAMS allows). It acknowledges the server's
 * SETTINGS, so the server's limits are in force, and records every frame it gets.
 */
export class RawFrameClient {
  readonly frames: Frame[] = [];
  #buffer = Buffer.alloc(0);
  #nextStream = 1;
  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    socket.on('error', () => undefined);
  }

  /** Connects, exchanges the preface and SETTINGS, and resolves once the server's SETTINGS are acknowledged. */
  static async open(port: number): Promise<RawFrameClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawFrameClient(socket);
    socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
    await client.until((f) => f.type === FRAME.SETTINGS && (f.flags & 1) === 0);
    return client;
  }

  /** Opens a gRPC stream with request headers and no body (it stays open); returns its stream id. */
  openGrpcStream(path: string): number {
    const id = this.#nextStream;
    this.#nextStream += 2;
    const block = Buffer.concat([
      Buffer.from([0x83, 0x86]), // :method POST, :scheme http (static table)
      literal(':path', path),
      literal(':authority', 'localhost'),
      literal('content-type', 'application/grpc'),
      literal('te', 'trailers'),
    ]);
    this.socket.write(frame(FRAME.HEADERS, 0x4, id, block)); // END_HEADERS, not END_STREAM
    return id;
  }

  /** Sends a DATA frame on a stream (END_STREAM when `end`): e.g. part of a gRPC message that is never completed. */
  sendData(streamId: number, payload: Buffer, end = false): void {
    this.socket.write(frame(FRAME.DATA, end ? 0x1 : 0, streamId, payload));
  }

  /** Whether the server has closed the TCP connection. */
  get closed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  /** Resolves with the first frame (seen or to come) that matches, or rejects after `timeoutMs`. */
  until(match: (frame: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('expected HTTP/2 frame did not arrive')), timeoutMs);
      const onFrame = (f: Frame): void => {
        if (!match(f)) return;
        clearTimeout(timer);
        this.#listeners.delete(onFrame);
        resolve(f);
      };
      this.#listeners.add(onFrame);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  readonly #listeners = new Set<(frame: Frame) => void>();

  #read(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    while (this.#buffer.length >= 9) {
      const length = this.#buffer.readUIntBE(0, 3);
      if (this.#buffer.length < 9 + length) return;
      const f: Frame = {
        type: this.#buffer.readUInt8(3),
        flags: this.#buffer.readUInt8(4),
        streamId: this.#buffer.readUInt32BE(5) & 0x7fffffff,
        payload: this.#buffer.subarray(9, 9 + length),
      };
      this.#buffer = this.#buffer.subarray(9 + length);
      this.frames.push(f);
      // Acknowledge SETTINGS so that the server's own settings take effect.
      if (f.type === FRAME.SETTINGS && (f.flags & 1) === 0) this.socket.write(frame(FRAME.SETTINGS, 1, 0));
      for (const listener of [...this.#listeners]) listener(f);
    }
  }
}
