import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface HttpStub {
  readonly url: string;
  readonly port: number;
  readonly requests: StubRequest[];
  /** Replaces how the stub answers (status, body); `hang` never answers. */
  respond(answer: { status: number; body?: string } | 'hang' | ((request: StubRequest) => { status: number; body?: string })): void;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records every request and answers as told. */
export async function startHttpStub(path = '/'): Promise<HttpStub> {
  const requests: StubRequest[] = [];
  let answer: Parameters<HttpStub['respond']>[0] = { status: 200, body: 'ok' };
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { at: Date.now(), method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      const { status, body } = typeof answer === 'function' ? answer(request) : answer;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    requests,
    respond(next) {
      answer = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
