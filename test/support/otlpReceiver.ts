import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Server, ServerCredentials, status, type GrpcObject, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const PROTO_ROOT = join(__dirname, '..', 'fixtures', 'opentelemetry-proto');
const SERVICE = 'opentelemetry.proto.collector.trace.v1.TraceService';

export type AttributeValue = string | number | boolean;

/** One received span, ids in hex as in traceparent. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly attributes: Record<string, AttributeValue>;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  readonly status: { code: number; message: string };
  readonly events: { name: string; attributes: Record<string, AttributeValue> }[];
  readonly resource: Record<string, AttributeValue>;
  readonly startNanos: bigint;
  readonly endNanos: bigint;
}

/** How the receiver answers: accept, refuse (UNAVAILABLE / HTTP 503), or never answer (a hung collector). */
export type ReceiverMode = 'accept' | 'refuse' | 'hang';

type Raw = Record<string, unknown>;

const hex = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('hex') : typeof value === 'string' ? value : '');

function anyValue(value: Raw | undefined): AttributeValue {
  if (value === undefined) return '';
  for (const key of ['stringValue', 'intValue', 'doubleValue', 'boolValue'] as const) {
    const v = value[key];
    // proto-loader with oneofs names the set field in `value`; OTLP/JSON has only the set one.
    if (v !== undefined && (value.value === undefined || value.value === key)) return key === 'intValue' ? Number(v) : (v as AttributeValue);
  }
  return '';
}

const attributes = (list: unknown): Record<string, AttributeValue> =>
  Object.fromEntries(((list as Raw[] | undefined) ?? []).map((kv) => [kv.key as string, anyValue(kv.value as Raw | undefined)]));

/** ExportTraceServiceRequest (decoded protobuf or OTLP/JSON) to flat spans. */
function spansOf(request: Raw, idsInHex: boolean): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  const id = (v: unknown): string => (idsInHex ? ((v as string | undefined) ?? '').toLowerCase() : hex(v));
  for (const rs of (request.resourceSpans as Raw[] | undefined) ?? []) {
    const resource = attributes((rs.resource as Raw | undefined)?.attributes);
    for (const ss of (rs.scopeSpans as Raw[] | undefined) ?? []) {
      for (const s of (ss.spans as Raw[] | undefined) ?? []) {
        const st = (s.status as Raw | undefined) ?? {};
        out.push({
          traceId: id(s.traceId),
          spanId: id(s.spanId),
          parentSpanId: id(s.parentSpanId),
          name: s.name as string,
          kind: Number(s.kind ?? 0),
          attributes: attributes(s.attributes),
          status: { code: Number(st.code ?? 0), message: (st.message as string | undefined) ?? '' },
          events: ((s.events as Raw[] | undefined) ?? []).map((e) => ({ name: e.name as string, attributes: attributes(e.attributes) })),
          resource,
          startNanos: BigInt((s.startTimeUnixNano as string | undefined) ?? '0'),
          endNanos: BigInt((s.endTimeUnixNano as string | undefined) ?? '0'),
        });
      }
    }
  }
  return out;
}

/**
 * A real OTLP trace receiver for the tests: the collector's
 * `TraceService/Export` over gRPC, and `POST /v1/traces` over HTTP in both
 * protobuf and JSON encodings, built from the vendored official
 * opentelemetry-proto definitions (test/fixtures/opentelemetry-proto).
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Export requests received, whatever the mode answered. */
  requests = 0;
  mode: ReceiverMode = 'accept';
  readonly #hung: (() => void)[] = [];

  private constructor(
    private readonly grpc: Server,
    private readonly http: HttpServer,
    readonly grpcPort: number,
    readonly httpPort: number,
  ) {}

  static async start(): Promise<OtlpReceiver> {
    const definition = loadSync(join(PROTO_ROOT, 'opentelemetry/proto/collector/trace/v1/trace_service.proto'), {
      includeDirs: [PROTO_ROOT],
      longs: String,
      enums: Number,
      defaults: false,
      oneofs: true,
    });
    const service = (loadPackageDefinition(definition) as unknown as Record<string, GrpcObject>).opentelemetry!;
    const ctor = SERVICE.split('.')
      .slice(1)
      .reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], service) as ServiceClientConstructor;
    const exportMethod = (definition[SERVICE] as ServiceDefinition).Export!;
    // The handlers need the instance, which needs their ports.
    const self: { receiver?: OtlpReceiver } = {};

    const grpc = new Server();
    grpc.addService(ctor.service, {
      Export: (call: { request: Raw }, callback: (error: { code: number; details: string } | null, response?: Raw) => void) => {
        const r = self.receiver!;
        r.requests += 1;
        if (r.mode === 'refuse') return callback({ code: status.UNAVAILABLE, details: 'receiver refusing (test)' });
        if (r.mode === 'hang') return void r.#hung.push(() => callback({ code: status.UNAVAILABLE, details: 'receiver closed' }));
        r.spans.push(...spansOf(call.request, false));
        callback(null, {});
      },
    });
    const grpcPort = await new Promise<number>((resolve, reject) =>
      grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
    );

    const http = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const r = self.receiver!;
        if (request.method !== 'POST' || request.url !== '/v1/traces') return void response.writeHead(404).end();
        r.requests += 1;
        if (r.mode === 'refuse') return void response.writeHead(503).end();
        if (r.mode === 'hang') return void r.#hung.push(() => response.destroy());
        const body = Buffer.concat(chunks);
        const json = (request.headers['content-type'] ?? '').startsWith('application/json');
        const decoded = json ? (JSON.parse(body.toString('utf8')) as Raw) : (exportMethod.requestDeserialize(body) as Raw);
        r.spans.push(...spansOf(decoded, json));
        response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : Buffer.alloc(0));
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    self.receiver = new OtlpReceiver(grpc, http, grpcPort, (http.address() as AddressInfo).port);
    return self.receiver;
  }

  /** The OTEL_* variables that make a service export here with `protocol`. */
  env(protocol: 'grpc' | 'http/protobuf' | 'http/json'): Record<string, string> {
    const endpoint = protocol === 'grpc' ? `http://127.0.0.1:${this.grpcPort}` : `http://127.0.0.1:${this.httpPort}`;
    return { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_BSP_SCHEDULE_DELAY: '50' };
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  /** Lets hung requests fail, and answers normally from now on. */
  recover(): void {
    this.mode = 'accept';
    for (const release of this.#hung.splice(0)) release();
  }

  async stop(): Promise<void> {
    this.recover();
    this.grpc.forceShutdown();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
