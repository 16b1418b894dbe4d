import { status, type Server, type ServerDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import { ServerReflectionService, type ServerReflectionRequest, type ServerReflectionResponse } from '../../generated/grpc/reflection/v1/reflection';
import { DescriptorIndex } from './DescriptorIndex';

export const REFLECTION_SERVICE_NAME = 'grpc.reflection.v1.ServerReflection';

// v1alpha has the same messages on the wire; older clients (grpcurl < 1.8.8, grpc_cli) only speak it.
const V1ALPHA: ServiceDefinition = {
  serverReflectionInfo: { ...ServerReflectionService.serverReflectionInfo, path: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo' },
};

function answer(
  index: DescriptorIndex,
  served: ReadonlySet<string>,
  request: ServerReflectionRequest,
): Omit<ServerReflectionResponse, 'validHost' | 'originalRequest'> {
  const notFound = (what: string) => ({ errorResponse: { errorCode: status.NOT_FOUND, errorMessage: `${what} not found` } });
  const files = (fileName: string | undefined, what: string) => {
    const fileDescriptorProto = fileName === undefined ? undefined : index.fileWithImports(fileName);
    return fileDescriptorProto === undefined
      ? notFound(what)
      : { fileDescriptorResponse: { fileDescriptorProto: fileDescriptorProto.map((b) => Buffer.from(b)) } };
  };
  if (request.listServices !== undefined) {
    return {
      listServicesResponse: {
        service: index
          .services()
          .filter((name) => served.has(name))
          .map((name) => ({ name })),
      },
    };
  }
  if (request.fileByFilename !== undefined) return files(request.fileByFilename, `file ${request.fileByFilename}`);
  if (request.fileContainingSymbol !== undefined) {
    return files(index.fileOfSymbol(request.fileContainingSymbol), `symbol ${request.fileContainingSymbol}`);
  }
  if (request.allExtensionNumbersOfType !== undefined) {
    const type = request.allExtensionNumbersOfType.replace(/^\./, '');
    // proto3 only: no type of this service has extensions.
    return index.hasMessage(type) ? { allExtensionNumbersResponse: { baseTypeName: type, extensionNumber: [] } } : notFound(`type ${type}`);
  }
  if (request.fileContainingExtension !== undefined) {
    const { containingType, extensionNumber } = request.fileContainingExtension;
    return notFound(`extension ${extensionNumber} of ${containingType}`);
  }
  return { errorResponse: { errorCode: status.INVALID_ARGUMENT, errorMessage: 'no message_request set' } };
}

/**
 * Serves grpc.reflection (v1 and v1alpha) from the descriptor set `buf build`
 * produced, with each file's real imports, so that grpcurl and grpcui can
 * describe and call every service, including messages that use well-known
 * types. Lists only the services in `served`.
 */
export function addDescriptorReflection(server: Server, descriptorSet: Uint8Array, served: readonly string[]): void {
  const index = new DescriptorIndex(descriptorSet);
  const listed = new Set([...served, REFLECTION_SERVICE_NAME]);
  const handler = (call: ServerDuplexStream<ServerReflectionRequest, ServerReflectionResponse>): void => {
    call.on('data', (request: ServerReflectionRequest) => {
      call.write({ validHost: request.host, originalRequest: request, ...answer(index, listed, request) });
    });
    call.on('end', () => call.end());
  };
  server.addService(ServerReflectionService, { serverReflectionInfo: handler });
  server.addService(V1ALPHA, { serverReflectionInfo: handler });
}
