import { randomUUID } from 'node:crypto';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { create, createFileRegistry, fromBinary, toBinary, toJson, type DescMessage, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type DescriptorProto, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { CoachingServiceService } from '../src/generated/coaching/v1/coaching_service';
import { grpcHealthApi, ServingStatus } from './support/healthClient';
import { reflectionClient } from './support/reflectionClient';
import { useHarness } from './support/harness';

let reflection: ReturnType<typeof reflectionClient>;
const h = useHarness({
  setup: ({ svc }) => {
    reflection = reflectionClient(svc.service.port);
  },
  teardown: () => reflection.client.close(),
});

function decodeFiles(protos: Buffer[] | undefined): FileDescriptorProto[] {
  return (protos ?? []).map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

/** Fully qualified names (with a leading dot) of the messages and enums a file defines. */
function definedTypes(file: FileDescriptorProto): Set<string> {
  const names = new Set<string>();
  const visit = (prefix: string, messages: DescriptorProto[]): void => {
    for (const m of messages) {
      names.add(`${prefix}.${m.name}`);
      for (const e of m.enumType) names.add(`${prefix}.${m.name}.${e.name}`);
      visit(`${prefix}.${m.name}`, m.nestedType);
    }
  };
  const pkg = file.package === '' ? '' : `.${file.package}`;
  for (const e of file.enumType) names.add(`${pkg}.${e.name}`);
  visit(pkg, file.messageType);
  return names;
}

/**
 * Strict clients (protoc, grpcurl's protoreflect) accept a type reference only
 * when the type is defined in the same file or in one it imports; a lenient
 * registry would hide dropped imports.
 */
function expectImportsCoverReferences(files: Map<string, FileDescriptorProto>): void {
  const definedIn = new Map<string, string>();
  for (const f of files.values()) for (const type of definedTypes(f)) definedIn.set(type, f.name);
  const problems: string[] = [];
  for (const f of files.values()) {
    const visible = new Set([f.name, ...f.dependency]);
    const check = (where: string, typeName: string): void => {
      if (typeName === '') return;
      const home = definedIn.get(typeName);
      if (home === undefined || !visible.has(home))
        problems.push(`${f.name}: ${where} uses ${typeName} (defined in ${home ?? 'no file'}) without importing it`);
    };
    const visit = (messages: DescriptorProto[]): void => {
      for (const m of messages) {
        for (const field of m.field) check(`${m.name}.${field.name}`, field.typeName);
        visit(m.nestedType);
      }
    };
    visit(f.messageType);
    for (const s of f.service) {
      for (const m of s.method) {
        check(`${s.name}.${m.name}`, m.inputType);
        check(`${s.name}.${m.name}`, m.outputType);
      }
    }
  }
  expect(problems).toEqual([]);
}

/**
 * What grpcurl does for `describe <symbol>`: ask for the file that defines the
 * symbol, then fetch every import by file name until the graph is closed, and
 * build a registry from the files alone (it fails on any unresolvable type).
 */
async function resolveSymbol(symbol: string): Promise<{ files: Map<string, FileDescriptorProto>; registry: FileRegistry }> {
  const first = await reflection.ask({ file_containing_symbol: symbol });
  expect({ symbol, kind: first.message_response, error: first.error_response }).toEqual({ symbol, kind: 'file_descriptor_response', error: undefined });
  const answered = decodeFiles(first.file_descriptor_response?.file_descriptor_proto);
  const files = new Map(answered.map((f) => [f.name, f]));
  const missing = (): string[] => [...files.values()].flatMap((f) => f.dependency).filter((d) => !files.has(d));
  for (let wanted = missing(); wanted.length > 0; wanted = missing()) {
    for (const name of new Set(wanted)) {
      const answer = await reflection.ask({ file_by_filename: name });
      expect({ name, kind: answer.message_response, error: answer.error_response }).toEqual({ name, kind: 'file_descriptor_response', error: undefined });
      const got = decodeFiles(answer.file_descriptor_response?.file_descriptor_proto);
      // The file asked for must come back under exactly that name, or the import stays unresolved.
      expect(got.map((f) => f.name)).toContain(name);
      for (const f of got) files.set(f.name, f);
    }
  }
  expectImportsCoverReferences(files);
  // Every file, dependencies first, in one set: the registry fails on any unresolvable import or type.
  const ordered: FileDescriptorProto[] = [];
  const place = (f: FileDescriptorProto): void => {
    if (ordered.includes(f)) return;
    for (const dep of f.dependency) place(files.get(dep)!);
    ordered.push(f);
  };
  for (const f of files.values()) place(f);
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
  return { files, registry };
}

describe('server reflection', () => {
  it('lists the coaching, health and reflection services', async () => {
    const answer = await reflection.ask({ list_services: '' });
    const names = answer.list_services_response!.service.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['coaching.v1.CoachingService', 'grpc.health.v1.Health']));
    expect(names.filter((n) => /^grpc\.reflection\.v1(alpha)?\.ServerReflection$/.test(n))).not.toHaveLength(0);
  });

  it('describes every listed service through descriptors whose imports all resolve', async () => {
    const names = (await reflection.ask({ list_services: '' })).list_services_response!.service.map((s) => s.name);
    for (const name of names) {
      const { registry } = await resolveSymbol(name);
      expect(registry.getService(name)?.methods.length).toBeGreaterThan(0);
    }
  });

  it('serves coaching.v1.CoachingService with resolvable well-known types (what grpcurl needs)', async () => {
    const { files, registry } = await resolveSymbol('coaching.v1.CoachingService');
    expect([...files.keys()]).toEqual(
      expect.arrayContaining([
        'coaching/v1/coaching_service.proto',
        'coaching/v1/profile.proto',
        'google/protobuf/timestamp.proto',
        'google/protobuf/field_mask.proto',
      ]),
    );
    const service = registry.getService('coaching.v1.CoachingService')!;
    // Exactly the methods the server registered (from the generated definition).
    expect(service.methods.map((m) => m.name).sort()).toEqual(
      Object.values(CoachingServiceService)
        .map((m) => m.path.split('/').pop())
        .sort(),
    );
    const profile = registry.getMessage('coaching.v1.Profile')!;
    expect(profile.fields.find((f) => f.name === 'create_time')?.message?.typeName).toBe('google.protobuf.Timestamp');
    expect(registry.getMessage('coaching.v1.UpdateProfileRequest')!.fields.find((f) => f.name === 'update_mask')?.message?.typeName).toBe(
      'google.protobuf.FieldMask',
    );
    // Comments travel with the descriptors (grpcurl describe shows them).
    const serviceFile = files.get('coaching/v1/coaching_service.proto')!;
    expect(serviceFile.sourceCodeInfo?.location.some((l) => l.leadingComments.includes('NOT_FOUND'))).toBe(true);
  });

  it('is enough to call the API with no proto files: messages built from reflected descriptors only', async () => {
    const { registry } = await resolveSymbol('coaching.v1.CoachingService');
    const service = registry.getService('coaching.v1.CoachingService')!;
    const method = (name: string) => service.methods.find((m) => m.name === name)!;
    const client = new Client(`127.0.0.1:${h.svc.service.port}`, credentials.createInsecure());
    const invoke = (name: string, json: Record<string, unknown>): Promise<{ json?: Record<string, unknown>; error?: ServiceError }> => {
      const m = method(name);
      const input: DescMessage = m.input;
      const output: DescMessage = m.output;
      return new Promise((resolve) => {
        client.makeUnaryRequest(
          `/${service.typeName}/${m.name}`,
          (value: Record<string, unknown>) => Buffer.from(toBinary(input, create(input, value))),
          (bytes: Buffer) => toJson(output, fromBinary(output, bytes), { registry }) as Record<string, unknown>,
          json,
          new Metadata(),
          {},
          (error, response) => resolve(error ? { error } : { json: response }),
        );
      });
    };
    try {
      const email = `reflected-${randomUUID().slice(0, 8)}@example.com`;
      const created = await invoke('CreateProfile', {
        profile: { role: 1, email, displayName: 'Reflected', timezone: 'Europe/Paris', bio: '' },
        requestId: randomUUID(),
      });
      expect(created.error).toBeUndefined();
      const profile = created.json!.profile as Record<string, string>;
      expect(profile).toMatchObject({ email, displayName: 'Reflected', role: 'ROLE_COACH' });
      // Timestamp decoded through the reflected well-known type: RFC 3339 in JSON.
      expect(profile.createTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      const got = await invoke('GetProfile', { id: profile.id });
      expect(got.json).toEqual({ profile });
      const missing = await invoke('GetProfile', { id: randomUUID() });
      expect(missing.error?.code).toBe(status.NOT_FOUND);
    } finally {
      client.close();
    }
  });
});

describe('grpc.health.v1', () => {
  it('reports SERVING for the server and for coaching.v1.CoachingService, NOT_FOUND for an unknown service', async () => {
    const health = grpcHealthApi(h.svc.service.port);
    try {
      expect((await health.ok('check', { service: '' })).status).toBe(ServingStatus.SERVING);
      expect((await health.ok('check', { service: 'coaching.v1.CoachingService' })).status).toBe(ServingStatus.SERVING);
      const unknown = await health.call('check', { service: 'no.such.Service' });
      expect(unknown.error?.code).toBe(status.NOT_FOUND);
    } finally {
      health.client.close();
    }
  });
});
