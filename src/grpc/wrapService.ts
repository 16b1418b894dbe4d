import type { MethodDefinition, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { UnaryHandler, UnaryWrapper } from './wrapUnary';

/** One handler per method of a generated service definition, typed by the method's request and response. */
export type HandlersOf<D> = {
  [K in keyof D]: D[K] extends MethodDefinition<infer Req, infer Res> ? UnaryHandler<Req, Res> : never;
};

/** The RPC name of a method (`CreateProfile`), taken from its path `/coaching.v1.CoachingService/CreateProfile`. */
export function methodName(method: { readonly path: string }): string {
  return method.path.slice(method.path.lastIndexOf('/') + 1);
}

/**
 * Wraps every method of a generated service definition (correlation id,
 * logging, metrics, error mapping): the method names come from the
 * definition, so a method added to the proto needs only its handler, and a
 * missing handler is a compile error. Streaming methods are refused: the
 * wrapper is for unary calls.
 */
export function wrapService<D extends ServiceDefinition>(definition: D, handlers: HandlersOf<D>, wrap: UnaryWrapper): UntypedServiceImplementation {
  const implementation: UntypedServiceImplementation = {};
  for (const key of Object.keys(definition) as (keyof D & string)[]) {
    const method = definition[key] as MethodDefinition<unknown, unknown>;
    if (method.requestStream || method.responseStream) throw new Error(`${method.path}: only unary methods can be wrapped`);
    implementation[key] = wrap(methodName(method), handlers[key] as UnaryHandler<unknown, unknown>);
  }
  return implementation;
}
