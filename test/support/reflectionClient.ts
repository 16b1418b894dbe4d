import { credentials, makeGenericClientConstructor, type Client, type ClientDuplexStream, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';

// The vendored proto, read by proto-loader (protobufjs): a codec that shares no code with the server's.
const PROTO = join(PROJECT_ROOT, 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');

/** One request of grpc.reflection (exactly one field set), in the proto's own field names. */
export type ReflectionRequest =
  | { list_services: string }
  | { file_by_filename: string }
  | { file_containing_symbol: string }
  | { file_containing_extension: { containing_type: string; extension_number: number } }
  | { all_extension_numbers_of_type: string };

/** The fields of a ServerReflectionResponse these tests read. */
export interface ReflectionResponse {
  readonly message_response: 'list_services_response' | 'file_descriptor_response' | 'all_extension_numbers_response' | 'error_response';
  readonly list_services_response?: { service: { name: string }[] };
  readonly file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  readonly all_extension_numbers_response?: { base_type_name: string; extension_number: number[] };
  readonly error_response?: { error_code: number; error_message: string };
}

type ReflectionStub = Client & { ServerReflectionInfo(): ClientDuplexStream<ReflectionRequest & { host: string }, ReflectionResponse> };

/**
 * A grpc.reflection client, as grpcurl uses it: requests go over one
 * bidirectional stream per question. `version` picks v1 or v1alpha (the same
 * messages under another service name; grpcurl 1.8 speaks v1alpha).
 */
export function reflectionClient(port: number, version: 'v1' | 'v1alpha' = 'v1') {
  const definition = loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const v1 = definition['grpc.reflection.v1.ServerReflection'] as ServiceDefinition;
  const service = Object.fromEntries(
    Object.entries(v1).map(([name, method]) => [name, { ...method, path: method.path.replace('grpc.reflection.v1.', `grpc.reflection.${version}.`) }]),
  ) as ServiceDefinition;
  const Stub = makeGenericClientConstructor(service, `ServerReflection${version}`) as unknown as new (
    address: string,
    creds: ReturnType<typeof credentials.createInsecure>,
  ) => ReflectionStub;
  const client = new Stub(`127.0.0.1:${port}`, credentials.createInsecure());
  const ask = (request: ReflectionRequest): Promise<ReflectionResponse> =>
    new Promise((resolve, reject) => {
      const stream = client.ServerReflectionInfo();
      let answered = false;
      stream.on('data', (response: ReflectionResponse) => {
        answered = true;
        resolve(response);
        stream.end();
      });
      stream.on('error', (error: ServiceError) => reject(error));
      stream.on('end', () => {
        if (!answered) reject(new Error(`reflection stream ended without an answer to ${JSON.stringify(request)}`));
      });
      stream.write({ host: '', ...request });
    });
  return { client, ask };
}
