import { credentials } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus, HealthClient, HealthService } from '../../../src/generated/grpc/health/v1/health';
import { rpc } from '../../support/grpcClient';

/** A status name, or the gRPC code name when Check itself failed. */
export type HealthAnswer = keyof typeof HealthCheckResponse_ServingStatus | `error ${number}`;

/** grpc.health.v1 Check on 127.0.0.1:port, answering with status names. */
export function healthProbe(port: number) {
  const client = new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const api = rpc(client, HealthService);
  return {
    async check(service: string): Promise<HealthAnswer> {
      const result = await api.call('check', { service }, { deadlineMs: 2_000 });
      if (result.error) return `error ${result.error.code}`;
      return HealthCheckResponse_ServingStatus[result.response!.status] as HealthAnswer;
    },
    close: () => client.close(),
  };
}
