import { credentials, Metadata, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { HealthServiceClient, HealthServiceService } from '../../src/generated/coaching/health/v1/health_service';
import { HealthCheckResponse_ServingStatus, HealthClient, HealthService, type HealthCheckResponse } from '../../src/generated/grpc/health/v1/health';
import { rpc } from './grpcClient';
import { adminQuery } from './testDatabase';

/** The coaching.health.v1 API of a running service. */
export function healthApi(port: number) {
  const client = new HealthServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return { client, ...rpc(client, HealthServiceService) };
}

/** grpc.health.v1 of a running service, as an orchestrator probe sees it. */
export function probeClient(port: number): HealthClient {
  return new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure());
}

export interface CheckResult {
  /** SERVING / NOT_SERVING / ...; undefined on a call error. */
  readonly status?: string;
  readonly error?: ServiceError;
  readonly ms: number;
}

/** One grpc.health.v1 Check with a deadline, like `grpc_health_probe -service=<name>`. */
export function check(client: HealthClient, service: string, deadlineMs = 1_000): Promise<CheckResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    client.check({ service }, new Metadata(), { deadline: Date.now() + deadlineMs }, (error, response) => {
      const ms = performance.now() - started;
      resolve(error ? { error, ms } : { status: HealthCheckResponse_ServingStatus[response.status], ms });
    });
  });
}

/** A Watch stream; `statuses` collects every message received, in order. */
export function watch(client: HealthClient, service: string): { statuses: string[]; times: number[]; cancel(): void } {
  const statuses: string[] = [];
  const times: number[] = [];
  const stream: ClientReadableStream<HealthCheckResponse> = client.watch({ service });
  stream.on('data', (message: HealthCheckResponse) => {
    statuses.push(HealthCheckResponse_ServingStatus[message.status] ?? String(message.status));
    times.push(Date.now());
  });
  stream.on('error', () => undefined);
  return { statuses, times, cancel: () => stream.cancel() };
}

/** grpc.health.v1 of a running service with typed promise calls (Check, and the ServingStatus enum). */
export function grpcHealthApi(port: number) {
  const client = new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return { client, ...rpc(client, HealthService) };
}

export { HealthCheckResponse_ServingStatus as ServingStatus };

/** Connections the service (application_name 'coaching-service') holds to `database`. */
export async function serviceConnections(database: string, queryAs: typeof adminQuery = adminQuery): Promise<number> {
  const [row] = await queryAs<{ n: number }>(`select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'coaching-service'`, [
    database,
  ]);
  return row!.n;
}
