import { status, type Server, type ServerDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import { ServerReflectionService, type ServerReflectionRequest, type ServerReflectionResponse } from '../../generated/grpc/reflection/v1/reflection';
import { DescriptorIndex } from './DescriptorIndex';

/** The two published versions of the reflection API; their messages are the same on the wire. */
const VERSIONS = ['grpc.reflection.v1', 'grpc.reflection.v1alpha'] as const;

/** Longest piece of a client's request echoed in an error message. */
const ECHO_LIMIT = 200;

function echo(text: string): string {
  return text.length > ECHO_LIMIT ? `${text.slice(0, ECHO_LIMIT).toWellFormed()}…` : text.toWellFormed();
}

/**
 * Answers one reflection request from the index. Unknown names get
 * NOT_FOUND; a known message without extensions gets an empty list of
 * extension numbers (as grpc-go answers), which strict clients such as
 * grpcurl need before they decode an `Any`, error details included.
 */
export function answerReflectionRequest(index: DescriptorIndex, listed: readonly string[], request: ServerReflectionRequest): ServerReflectionResponse {
  const response: ServerReflectionResponse = { validHost: request.host, originalRequest: request };
  const notFound = (what: string): ServerReflectionResponse => ({ ...response, errorResponse: { errorCode: status.NOT_FOUND, errorMessage: echo(what) } });
  const files = (fileName: string | undefined): ServerReflectionResponse | undefined => {
    const found = fileName === undefined ? undefined : index.fileWithDependencies(fileName);
    return found === undefined ? undefined : { ...response, fileDescriptorResponse: { fileDescriptorProto: found } };
  };

  if (request.listServices !== undefined) return { ...response, listServicesResponse: { service: listed.map((name) => ({ name })) } };
  if (request.fileByFilename !== undefined) return files(request.fileByFilename) ?? notFound(`file not found: ${request.fileByFilename}`);
  if (request.fileContainingSymbol !== undefined) {
    return files(index.fileOfSymbol(request.fileContainingSymbol)) ?? notFound(`symbol not found: ${request.fileContainingSymbol}`);
  }
  if (request.fileContainingExtension !== undefined) {
    const { containingType, extensionNumber } = request.fileContainingExtension;
    return files(index.fileOfExtension(containingType, extensionNumber)) ?? notFound(`extension ${extensionNumber} of ${containingType} not found`);
  }
  if (request.allExtensionNumbersOfType !== undefined) {
    const numbers = index.extensionNumbers(request.allExtensionNumbersOfType);
    if (numbers === undefined) return notFound(`message type not found: ${request.allExtensionNumbersOfType}`);
    return { ...response, allExtensionNumbersResponse: { baseTypeName: request.allExtensionNumbersOfType, extensionNumber: numbers } };
  }
  return { ...response, errorResponse: { errorCode: status.INVALID_ARGUMENT, errorMessage: 'the request names no message_request' } };
}

/**
 * Serves grpc.reflection.v1 and v1alpha ServerReflection over the given
 * serialized FileDescriptorProtos (buf's descriptor set), byte for byte.
 * `services` limits what list_services names (default: every service the
 * files define); a service that is not listed can still be described.
 */
export function addReflection(
  server: Pick<Server, 'addService'>,
  fileDescriptorProtos: readonly Buffer[],
  options: { services?: readonly string[] } = {},
): void {
  const index = new DescriptorIndex(fileDescriptorProtos);
  const listed = index.services.filter((name) => options.services === undefined || options.services.includes(name));
  const { serverReflectionInfo } = ServerReflectionService;
  for (const pkg of VERSIONS) {
    const definition: ServiceDefinition = {
      ServerReflectionInfo: { ...serverReflectionInfo, path: `/${pkg}.ServerReflection/ServerReflectionInfo`, originalName: 'serverReflectionInfo' },
    };
    server.addService(definition, {
      ServerReflectionInfo: (call: ServerDuplexStream<ServerReflectionRequest, ServerReflectionResponse>) => {
        call.on('data', (request: ServerReflectionRequest) => call.write(answerReflectionRequest(index, listed, request)));
        call.on('end', () => call.end());
        // A client that goes away mid-stream is not an error of ours.
        call.on('error', () => undefined);
      },
    });
  }
}
