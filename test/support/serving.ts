import { grpcHealthApi, ServingStatus } from './healthClient';
import type { NodeProcess } from './processes';
import { waitFor } from './waitFor';

/** Waits until the service process on `port` reports SERVING for "" (fails at once if it exits). */
export async function waitUntilServing(service: NodeProcess, port: number, timeoutMs = 30_000): Promise<void> {
  const health = grpcHealthApi(port);
  try {
    await waitFor(
      'the service to report SERVING',
      async () => {
        if (service.child.exitCode !== null) throw new Error(`service exited with ${service.child.exitCode}: ${service.stdout()}${service.stderr()}`);
        const result = await health.call('check', { service: '' }, { deadlineMs: 1000 });
        return result.response?.status === ServingStatus.SERVING ? true : undefined;
      },
      { timeoutMs },
    );
  } finally {
    health.client.close();
  }
}
