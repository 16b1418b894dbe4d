/**
 * The bare baseline: the smallest @grpc/grpc-js + pg server that answers the
 * same RPCs with the same generated code and the same SQL as the service, and
 * nothing else — no validation, slonik, policies, logging or metrics. What
 * the service costs beyond this is the price of its layers.
 *
 * Usage: node dist/bench/baseline/server.js  (BENCH_DATABASE_URL, BENCH_PORT, BENCH_POOL_SIZE)
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
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

const handlers: Partial<CoachingServiceServer> = { ...createBaselineHandlers(pool), ...createBaselineSessionHandlers(pool) };
const server = new Server();
// Methods left out answer UNIMPLEMENTED (grpc-js fills them in).
server.addService(CoachingServiceService, handlers as UntypedServiceImplementation);
server.addService(EmptyService, {
  empty: (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => callback(null, EMPTY_RESPONSE),
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
