import { credentials, loadPackageDefinition, type Client, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';

const PROTO = join(PROJECT_ROOT, 'node_modules', '@grpc', 'reflection', 'build', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');

/** One request of grpc.reflection.v1 (exactly one field set), in the proto's own field names. */
export type ReflectionRequest = { list_services: string } | { file_by_filename: string } | { file_containing_symbol: string };

/** The fields of a ServerReflectionResponse these tests read. */
export interface ReflectionResponse {
  readonly message_response: 'list_services_response' | 'file_descriptor_response' | 'error_response';
  readonly list_services_response?: { service: { name: string }[] };
  readonly file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  readonly error_response?: { error_code: number; error_message: string };
}

type ReflectionStub = Client & { ServerReflectionInfo(): ClientDuplexStream<ReflectionRequest & { host: string }, ReflectionResponse> };

/**
 * A grpc.reflection.v1 client, as grpcurl uses it: requests go over one
 * bidirectional stream per question.
 */
export function reflectionClient(port: number) {
  const definition = loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => ReflectionStub } } };
  };
  const client = new pkg.grpc.reflection.v1.ServerReflection(`127.0.0.1:${port}`, credentials.createInsecure());
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
