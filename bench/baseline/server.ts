/**
 * The bare baseline: the smallest @grpc/grpc-js + pg server that answers the
 * same RPCs with the same generated code and the same SQL as the service, and
 * nothing else — no validation, slonik, policies, logging or metrics (only a
 * count of answers per method and status, for h2load's runs). What the service
 * costs beyond this is the price of its layers.
 *
 * Usage: node dist/bench/baseline/server.js  (BENCH_DATABASE_URL, BENCH_PORT, BENCH_POOL_SIZE)
 */
import {
  Server,
  ServerCredentials,
  status,
  type handleUnaryCall,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { Pool } from 'pg';
import { CoachingServiceService, type CoachingServiceServer } from '../../src/generated/coaching/v1/coaching_service';
import { EMPTY_RESPONSE, EmptyService } from './emptyService';
import { createBaselineHandlers } from './handlers';
import { createBaselineSessionHandlers } from './sessionHandlers';

const url = process.env.BENCH_DATABASE_URL;
const port = Number(process.env.BENCH_PORT ?? '0');
const poolSize = Number(process.env.BENCH_POOL_SIZE ?? '25');
if (url === undefined) throw new Error('BENCH_DATABASE_URL is required');

const pool = new Pool({ connectionString: url, max: poolSize });
pool.on('error', () => undefined);

/** Calls answered per method and gRPC status: one counter increment per call, so h2load's HTTP 200s can be checked (bench/h2load.ts). */
const outcomes: Record<string, Record<string, number>> = {};

/** Wraps a handler so that its answer is counted under its method's proto name (GetProfile) and status name. */
function counted(name: string, handler: handleUnaryCall<unknown, unknown>): handleUnaryCall<unknown, unknown> {
  const method = name.charAt(0).toUpperCase() + name.slice(1);
  const byStatus = (outcomes[method] = {} as Record<string, number>);
  return (call, callback) =>
    handler(call, (error, ...rest) => {
      const code = status[error?.code ?? status.OK];
      byStatus[code] = (byStatus[code] ?? 0) + 1;
      callback(error, ...rest);
    });
}

const handlers: Partial<CoachingServiceServer> = Object.fromEntries(
  Object.entries({ ...createBaselineHandlers(pool), ...createBaselineSessionHandlers(pool) }).map(([name, handler]) => [
    name,
    counted(name, handler as handleUnaryCall<unknown, unknown>),
  ]),
);
const server = new Server();
// Methods left out answer UNIMPLEMENTED (grpc-js fills them in).
server.addService(CoachingServiceService, handlers as UntypedServiceImplementation);
server.addService(EmptyService, {
  empty: (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => callback(null, EMPTY_RESPONSE),
  outcomes: (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => callback(null, Buffer.from(JSON.stringify(outcomes))),
});
server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) => {
  if (error) throw error;
  process.stdout.write(`${JSON.stringify({ listening: bound })}\n`);
});

const stop = (): void => {
  server.tryShutdown(() => void pool.end().then(() => process.exit(0)));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
