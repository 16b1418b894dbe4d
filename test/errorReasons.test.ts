/**
 * Error reasons are a closed set (src/domain/errorReasons.ts; the type makes
 * the code use no other), and each is documented in the proto comment of the
 * RPCs that return it, or in the service comment when any RPC may.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_REASONS, type ErrorReason } from '../src/domain/errorReasons';
import { PROJECT_ROOT } from '../src/paths';

const PROTOS = {
  coaching: 'proto/coaching/v1/coaching_service.proto',
  health: 'proto/coaching/health/v1/health_service.proto',
  admin: 'proto/coaching/admin/v1/admin_service.proto',
} as const;

/** The leading comment of the service and of each RPC of a proto file. */
function comments(path: string): { service: string; rpcs: Map<string, string> } {
  const rpcs = new Map<string, string>();
  let service = '';
  let pending: string[] = [];
  for (const line of readFileSync(join(PROJECT_ROOT, path), 'utf8').split('\n')) {
    const text = line.trim();
    if (text.startsWith('//')) {
      pending.push(text.slice(2));
      continue;
    }
    const rpc = /^rpc (\w+)\(/.exec(text);
    if (rpc !== null) rpcs.set(rpc[1]!, pending.join(' '));
    if (text.startsWith('service ')) service = pending.join(' ');
    if (text !== '') pending = [];
  }
  return { service, rpcs };
}

const documented = (text: string, reason: string): boolean => new RegExp(`\\b${reason}\\b`).test(text);

it('every reason is documented where it is returned', () => {
  const missing: string[] = [];
  for (const [reason, where] of Object.entries(ERROR_REASONS) as [ErrorReason, Partial<Record<keyof typeof PROTOS, '*' | readonly string[]>>][]) {
    for (const [service, rpcs] of Object.entries(where) as [keyof typeof PROTOS, '*' | readonly string[]][]) {
      const proto = comments(PROTOS[service]);
      if (rpcs === '*') {
        if (!documented(proto.service, reason)) missing.push(`${reason}: the ${service} service comment`);
        continue;
      }
      for (const rpc of rpcs) {
        const comment = proto.rpcs.get(rpc);
        if (comment === undefined) missing.push(`${reason}: ${service} has no RPC ${rpc}`);
        else if (!documented(comment, reason)) missing.push(`${reason}: the comment of ${service} ${rpc}`);
      }
    }
  }
  expect(missing).toEqual([]);
});

it('every reason a proto comment names is one the code can return', () => {
  const known = new Set<string>(Object.keys(ERROR_REASONS));
  const named = new Set<string>();
  for (const path of Object.values(PROTOS)) {
    const { service, rpcs } = comments(path);
    for (const text of [service, ...rpcs.values()]) for (const [word] of text.matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g)) named.add(word);
  }
  // Status codes and other UPPER_SNAKE words that are not reasons.
  const notReasons = new Set([
    ...['FAILED_PRECONDITION', 'ALREADY_EXISTS', 'RESOURCE_EXHAUSTED', 'PERMISSION_DENIED', 'NOT_SERVING', 'UPPER_SNAKE'],
    ...[
      'ADMIN_GRPC_HOST',
      'ADMIN_GRPC_PORT',
      'ADMIN_TLS_CLIENT_AUTH',
      'ADMIN_TOKEN_FILE',
      'HEALTH_HISTORY_SIZE',
      'DB_HOST',
      'EVENTS_RETENTION',
      'EVENTS_STREAM',
      'REDIS_URL',
    ],
  ]);
  expect([...named].filter((word) => !known.has(word) && !notReasons.has(word)).sort()).toEqual([]);
});
