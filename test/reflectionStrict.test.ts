/**
 * Reflection as strict clients (grpcurl, grpc-go's grpcreflect) use it, at the
 * protocol level and with no binary: before decoding an `Any` (every error
 * detail is one) they ask for the type's file and then for its extension
 * numbers, and give up on the detail if the second question fails.
 */
import { readFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema, type DescriptorProto } from '@bufbuild/protobuf/wkt';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { DESCRIPTOR_SET } from '../src/paths';
import { reflectionClient } from './support/reflectionClient';
import { useHarness } from './support/harness';
import type { TestService } from './support/testService';

let svc: TestService;
const clients: ReturnType<typeof reflectionClient>[] = [];

const h = useHarness({ teardown: () => clients.forEach((c) => c.client.close()) });
beforeAll(() => ({ svc } = h));

const setBytes = readFileSync(DESCRIPTOR_SET);
const descriptorSet = fromBinary(FileDescriptorSetSchema, setBytes);

/** Every message the server's descriptor set defines, nested ones included (fully qualified, no leading dot). */
const knownMessages: string[] = descriptorSet.file.flatMap((file) => {
  const names: string[] = [];
  const visit = (prefix: string, messages: DescriptorProto[]): void => {
    for (const m of messages) {
      names.push(`${prefix}${m.name}`);
      visit(`${prefix}${m.name}.`, m.nestedType);
    }
  };
  visit(file.package === '' ? '' : `${file.package}.`, file.messageType);
  return names;
});

/** The serialized FileDescriptorProtos exactly as `buf build` wrote them, by file name. */
const fileBytes = new Map<string, Buffer>();
for (const reader = new BinaryReader(setBytes); reader.pos < reader.len;) {
  const [field, wireType] = reader.tag();
  if (field !== 1 || wireType !== WireType.LengthDelimited) {
    reader.skip(wireType);
    continue;
  }
  const bytes = Buffer.from(reader.bytes());
  fileBytes.set(descriptorSet.file[fileBytes.size]!.name, bytes);
}

describe.each(['v1', 'v1alpha'] as const)('grpc.reflection.%s', (version) => {
  const ask = (request: Parameters<ReturnType<typeof reflectionClient>['ask']>[0]) => {
    if (clients.length < 2) clients.push(reflectionClient(svc.service.port, 'v1'), reflectionClient(svc.service.port, 'v1alpha'));
    return clients[version === 'v1' ? 0 : 1]!.ask(request);
  };

  it('answers all_extension_numbers_of_type for every known message with its (empty) list of extension numbers', async () => {
    expect(knownMessages).toEqual(
      expect.arrayContaining(['google.rpc.ErrorInfo', 'google.rpc.BadRequest', 'google.rpc.BadRequest.FieldViolation', 'google.rpc.RetryInfo']),
    );
    const answers: Record<string, unknown> = {};
    for (const name of knownMessages) {
      const answer = await ask({ all_extension_numbers_of_type: name });
      answers[name] = { kind: answer.message_response, ...answer.all_extension_numbers_response };
    }
    // None of these protos declares an extension, so every list is empty; what matters is that none is an error.
    expect(answers).toEqual(
      Object.fromEntries(knownMessages.map((name) => [name, { kind: 'all_extension_numbers_response', base_type_name: name, extension_number: [] }])),
    );
  });

  it('answers NOT_FOUND for names that are not messages it knows', async () => {
    for (const name of ['coaching.v1.NoSuchMessage', 'coaching.v1.CoachingService', 'coaching.v1.Profile.email', 'ErrorInfo', '']) {
      const answer = await ask({ all_extension_numbers_of_type: name });
      expect({ name, kind: answer.message_response, code: answer.error_response?.error_code }).toEqual({
        name,
        kind: 'error_response',
        code: status.NOT_FOUND,
      });
    }
    const extension = await ask({ file_containing_extension: { containing_type: 'google.rpc.ErrorInfo', extension_number: 1000 } });
    expect(extension.error_response?.error_code).toBe(status.NOT_FOUND);
  });

  it('serves every file byte for byte as buf built it, with its imports', async () => {
    for (const [name, bytes] of fileBytes) {
      const answer = await ask({ file_by_filename: name });
      const [first, ...rest] = answer.file_descriptor_response?.file_descriptor_proto ?? [];
      expect({ name, same: first?.equals(bytes) }).toEqual({ name, same: true });
      const imports = descriptorSet.file.find((f) => f.name === name)!.dependency;
      for (const dep of imports) expect(rest.some((b) => b.equals(fileBytes.get(dep)!))).toBe(true);
    }
  });

  it('finds the file of every kind of symbol: message, nested message, field, enum, enum value, service, method', async () => {
    const symbols: Record<string, string> = {
      'google.rpc.ErrorInfo': 'google/rpc/error_details.proto',
      'google.rpc.BadRequest.FieldViolation': 'google/rpc/error_details.proto',
      'coaching.v1.Profile.email': 'coaching/v1/profile.proto',
      'coaching.v1.Role': 'coaching/v1/profile.proto',
      'coaching.v1.ROLE_COACH': 'coaching/v1/profile.proto',
      'coaching.v1.CoachingService': 'coaching/v1/coaching_service.proto',
      'coaching.v1.CoachingService.GetProfile': 'coaching/v1/coaching_service.proto',
      'grpc.health.v1.Health': 'grpc/health/v1/health.proto',
    };
    for (const [symbol, file] of Object.entries(symbols)) {
      const answer = await ask({ file_containing_symbol: symbol });
      const first = answer.file_descriptor_response?.file_descriptor_proto[0];
      expect({ symbol, file: first === undefined ? answer.error_response : [...fileBytes].find(([, b]) => b.equals(first))?.[0] }).toEqual({ symbol, file });
    }
  });
});
