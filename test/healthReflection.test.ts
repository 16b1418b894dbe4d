/**
 * Server reflection as grpcurl uses it: list the services, fetch the file of
 * a symbol with its imports, link the schema strictly (an independent
 * protobuf runtime, @bufbuild/protobuf, which like grpcurl refuses unresolved
 * types), then render a live response as protobuf JSON, which is what
 * `grpcurl ... coaching.health.v1.HealthService/GetHealth` prints.
 */
import { create, createFileRegistry, fromBinary, toJson } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { credentials, Metadata } from '@grpc/grpc-js';
import { GetHealthResponse } from '../src/generated/coaching/health/v1/health_service';
import { ServerReflectionClient, type ServerReflectionRequest, type ServerReflectionResponse } from '../src/generated/grpc/reflection/v1/reflection';
import { healthApi } from './support/healthClient';
import { useHarness } from './support/harness';
import type { TestDatabase } from './support/testDatabase';
import type { TestService } from './support/testService';

let db: TestDatabase;
let svc: TestService;
let reflection: ServerReflectionClient;

const h = useHarness({
  setup: () => {
    reflection = new ServerReflectionClient(`127.0.0.1:${h.svc.service.port}`, credentials.createInsecure());
  },
  teardown: () => reflection.close(),
});
beforeAll(() => ({ db, svc } = h));

/** One request on a ServerReflectionInfo stream. */
function ask(request: Partial<ServerReflectionRequest>): Promise<ServerReflectionResponse> {
  return new Promise((resolve, reject) => {
    const stream = reflection.serverReflectionInfo(new Metadata());
    stream.on('data', (response: ServerReflectionResponse) => {
      resolve(response);
      stream.end();
    });
    stream.on('error', reject);
    stream.write({ host: '', ...request });
  });
}

async function linkedSchemaOf(symbol: string) {
  const response = await ask({ fileContainingSymbol: symbol });
  const files = response.fileDescriptorResponse!.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
  // Like grpcurl: link the file asked for after its imports, found by name among the files received.
  const ordered: FileDescriptorProto[] = [];
  const add = (file: FileDescriptorProto | undefined): void => {
    if (file === undefined || ordered.includes(file)) return;
    for (const name of file.dependency) add(files.find((f) => f.name === name));
    ordered.push(file);
  };
  add(files[0]);
  return { names: files.map((f) => f.name), registry: createFileRegistry(create(FileDescriptorSetSchema, { file: ordered })) };
}

it('lists every served service', async () => {
  const response = await ask({ listServices: '' });
  expect(response.listServicesResponse!.service.map((s) => s.name).sort()).toEqual([
    'coaching.health.v1.HealthService',
    'coaching.v1.CoachingService',
    'grpc.health.v1.Health',
    'grpc.reflection.v1.ServerReflection',
  ]);
});

it('serves each service file with its imports, so that the schema links, well-known types included', async () => {
  const health = await linkedSchemaOf('coaching.health.v1.HealthService');
  expect(health.names).toEqual([
    'coaching/health/v1/health_service.proto',
    'coaching/health/v1/dependency_health.proto',
    'google/protobuf/timestamp.proto',
    'coaching/health/v1/health_event.proto',
  ]);
  const service = health.registry.getService('coaching.health.v1.HealthService')!;
  expect(service.methods.map((m) => `${m.name}(${m.input.typeName}) ${m.output.typeName}`)).toEqual([
    'GetHealth(coaching.health.v1.GetHealthRequest) coaching.health.v1.GetHealthResponse',
    'ListHealthEvents(coaching.health.v1.ListHealthEventsRequest) coaching.health.v1.ListHealthEventsResponse',
    'ResetCircuitBreaker(coaching.health.v1.ResetCircuitBreakerRequest) coaching.health.v1.ResetCircuitBreakerResponse',
    'IsolateCircuitBreaker(coaching.health.v1.IsolateCircuitBreakerRequest) coaching.health.v1.IsolateCircuitBreakerResponse',
  ]);
  const coaching = await linkedSchemaOf('coaching.v1.CoachingService.GetProfile');
  expect(coaching.registry.getMessage('coaching.v1.Profile')!.fields.find((f) => f.name === 'create_time')?.message?.typeName).toBe(
    'google.protobuf.Timestamp',
  );
  expect((await ask({ fileContainingSymbol: 'no.such.Symbol' })).errorResponse).toMatchObject({ errorCode: 5 });
  expect((await ask({ fileByFilename: 'google/protobuf/timestamp.proto' })).fileDescriptorResponse!.fileDescriptorProto).toHaveLength(1);
});

it('renders GetHealth as JSON that reads like the treasury example', async () => {
  const { registry } = await linkedSchemaOf('coaching.health.v1.HealthService');
  const live = await healthApi(svc.service.port).ok('getHealth', {});
  const schema = registry.getMessage('coaching.health.v1.GetHealthResponse')!;
  const json = toJson(schema, fromBinary(schema, GetHealthResponse.encode(live).finish()), { registry }) as Record<string, any>;
  expect(json).toMatchObject({
    status: 'SERVICE_STATUS_HEALTHY',
    message: 'Service is fully operational',
    checked_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
  });
  expect(json.dependencies[0]).toMatchObject({
    name: 'postgresql-primary',
    type: 'DEPENDENCY_TYPE_DATABASE',
    status: 'SERVICE_STATUS_HEALTHY',
    is_critical: true,
    message: 'Database connection healthy',
    config: { hostname: '127.0.0.1', protocol: 'postgresql', database_name: db.name, schema_name: 'public', pool_info: { max_connections: 10 } },
    last_check: expect.any(String),
  });
});
