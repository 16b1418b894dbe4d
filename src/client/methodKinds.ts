import type { ServiceDefinition } from '@grpc/grpc-js';

/**
 * How safe a method is to call again after a failure, read from the generated
 * service definition (not from a list of names): a request message with a
 * `requestId` field is an idempotent write; a `Get…`/`List…` method (AIP
 * standard methods) is a read; anything else (Update/Delete, guarded by an
 * etag) is a write that is never retried by the client.
 */
export type MethodKind = 'read' | 'idempotent-write' | 'write';

export interface MethodInfo {
  /** Key in the definition and on the client (`createProfile`). */
  readonly key: string;
  /** RPC name as on the wire (`CreateProfile`). */
  readonly name: string;
  readonly kind: MethodKind;
}

export function describeMethods(definition: ServiceDefinition): MethodInfo[] {
  return Object.entries(definition).map(([key, method]) => {
    const name = method.path.slice(method.path.lastIndexOf('/') + 1);
    // Decoding an empty message yields every field at its default, so the field list is visible.
    const empty = method.requestDeserialize(Buffer.alloc(0)) as Record<string, unknown>;
    const kind: MethodKind = 'requestId' in empty ? 'idempotent-write' : /^(Get|List)[A-Z]/.test(name) ? 'read' : 'write';
    return { key, name, kind };
  });
}

/** The package-qualified service name of a definition (`coaching.v1.CoachingService`). */
export function serviceName(definition: ServiceDefinition): string {
  const first = Object.values(definition)[0];
  if (first === undefined) throw new Error('service definition has no methods');
  return first.path.slice(1, first.path.lastIndexOf('/'));
}
