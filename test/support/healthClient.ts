import { credentials } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus, HealthClient, HealthService } from '../../src/generated/grpc/health/v1/health';
import { rpc } from './grpcClient';
import { adminQuery } from './testDatabase';

export { HealthCheckResponse_ServingStatus as ServingStatus };

/** A grpc.health.v1 client on 127.0.0.1:port with typed promise calls. */
export function healthApi(port: number) {
  const client = new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return { client, ...rpc(client, HealthService) };
}

/** Connections the service (application_name 'coaching-service') holds to `database`. */
export async function serviceConnections(database: string, queryAs: typeof adminQuery = adminQuery): Promise<number> {
  const [row] = await queryAs<{ n: number }>(`select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'coaching-service'`, [
    database,
  ]);
  return row!.n;
}
