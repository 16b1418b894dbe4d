import { status, type Server, type ServerDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import { ServerReflectionService, type ServerReflectionRequest, type ServerReflectionResponse } from '../../generated/grpc/reflection/v1/reflection';
import { DescriptorIndex } from './DescriptorIndex';

/** The two published versions of the reflection API; their messages are the same on the wire. */
const VERSIONS = ['grpc.reflection.v1', 'grpc.reflection.v1alpha'] as const;

/** Longest piece of a client's request echoed in an error message. */
const ECHO_LIMIT = 200;
/**
 * Longest name (symbol, file, host) looked up. The longest this server knows
 * is under 100 characters; anything past this bound is refused without a
 * lookup and is not echoed back whole in `original_request`.
 */
export const MAX_REFLECTION_NAME_LENGTH = 1024;

const UNDECODABLE = Symbol('undecodable reflection request');

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
  const tooLong = namesOf(request).some((name) => name.length > MAX_REFLECTION_NAME_LENGTH);
  if (tooLong) {
    return {
      validHost: echo(request.host),
      originalRequest: boundedRequest(request),
      errorResponse: { errorCode: status.INVALID_ARGUMENT, errorMessage: `names longer than ${MAX_REFLECTION_NAME_LENGTH} characters are not looked up` },
    };
  }
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

/** Every client-chosen name in a request. */
function namesOf(request: ServerReflectionRequest): string[] {
  return [
    request.host,
    request.fileByFilename,
    request.fileContainingSymbol,
    request.allExtensionNumbersOfType,
    request.listServices,
    request.fileContainingExtension?.containingType,
  ].filter((name): name is string => name !== undefined);
}

/** The request with each name cut to the echo limit (an answer echoes its request). */
function boundedRequest(request: ServerReflectionRequest): ServerReflectionRequest {
  const cut = (name: string | undefined): string | undefined => (name === undefined ? undefined : echo(name));
  return {
    host: echo(request.host),
    fileByFilename: cut(request.fileByFilename),
    fileContainingSymbol: cut(request.fileContainingSymbol),
    allExtensionNumbersOfType: cut(request.allExtensionNumbersOfType),
    listServices: cut(request.listServices),
    fileContainingExtension:
      request.fileContainingExtension === undefined
        ? undefined
        : { containingType: echo(request.fileContainingExtension.containingType), extensionNumber: request.fileContainingExtension.extensionNumber },
  };
}

/** What {@link addReflection} hands back: shutdown must end the streams, which clients keep open. */
export interface ReflectionHandle {
  /** Open reflection streams (tests). */
  openStreams(): number;
  /** Ends every open stream with UNAVAILABLE, so a drain is not held up by an idle client. */
  endStreams(): void;
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
): ReflectionHandle {
  const index = new DescriptorIndex(fileDescriptorProtos);
  const listed = index.services.filter((name) => options.services === undefined || options.services.includes(name));
  const { serverReflectionInfo } = ServerReflectionService;
  const open = new Set<ServerDuplexStream<ServerReflectionRequest | Undecodable, ServerReflectionResponse>>();
  const ends = new WeakMap<object, () => void>();
  for (const pkg of VERSIONS) {
    const definition: ServiceDefinition = {
      ServerReflectionInfo: {
        ...serverReflectionInfo,
        requestDeserialize: guardedDeserialize(serverReflectionInfo.requestDeserialize),
        path: `/${pkg}.ServerReflection/ServerReflectionInfo`,
        originalName: 'serverReflectionInfo',
      },
    };
    server.addService(definition, {
      ServerReflectionInfo: (call: ServerDuplexStream<ServerReflectionRequest | Undecodable, ServerReflectionResponse>) => {
        open.add(call);
        let ended = false;
        const finish = (error?: { code: status; details: string }): void => {
          if (ended) return;
          ended = true;
          open.delete(call);
          if (error === undefined) call.end();
          else call.emit('error', error);
        };
        call.on('data', (request: ServerReflectionRequest | Undecodable) => {
          if (ended) return;
          if (UNDECODABLE in request) {
            finish({ code: status.INVALID_ARGUMENT, details: 'the request is not a valid protobuf encoding of grpc.reflection ServerReflectionRequest' });
            return;
          }
          // Back-pressure: a client that sends requests but reads no answers stops being read
          // (HTTP/2 flow control then stops it sending), so its answers never pile up in memory.
          if (!call.write(answerReflectionRequest(index, listed, request))) {
            call.pause();
            call.once('drain', () => call.resume());
          }
        });
        call.on('end', () => finish());
        call.on('cancelled', () => open.delete(call));
        call.on('close', () => open.delete(call));
        // A client that goes away mid-stream is not an error of ours.
        call.on('error', () => undefined);
        ends.set(call, () => finish({ code: status.UNAVAILABLE, details: 'the server is shutting down; reconnect to another replica' }));
      },
    });
  }
  return {
    openStreams: () => open.size,
    endStreams() {
      for (const call of [...open]) ends.get(call)?.();
    },
  };
}

/** What the guarded deserializer hands on for bytes that are not a request. */
interface Undecodable {
  readonly [UNDECODABLE]: true;
}

/** A request deserializer that never throws: grpc-js leaves a bidi stream hanging after one that does. */
function guardedDeserialize(deserialize: (bytes: Buffer) => ServerReflectionRequest): (bytes: Buffer) => ServerReflectionRequest | Undecodable {
  return (bytes) => {
    try {
      return deserialize(bytes);
    } catch {
      return { [UNDECODABLE]: true };
    }
  };
}
