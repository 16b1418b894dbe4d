/**
 * The probes of deploy/kubernetes/deployment.yaml, run the way the kubelet
 * runs them (grpc.health.v1 Check; grpc_health_probe exits 0 SERVING, 4
 * NOT_SERVING, 3 unknown service, 2 no connection) through start, degraded
 * start, a database outage and the drain on shutdown.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { PROJECT_ROOT } from '../../src/paths';
import { createEmptyDatabase } from '../resilience/support/fixtures';
import { probeExitCode } from '../support/cliTools';
import { freePort, startEmbeddedTestPostgres } from '../support/postgresServer';
import { describeWithTools } from '../support/systemTools';
import { serviceEnv } from '../support/testDatabase';
import { startTestService, type TestService } from '../support/testService';
import { waitFor } from '../support/waitFor';

const SERVING = 0;
const NOT_SERVING = 4;
const UNKNOWN_SERVICE = 3;
const NO_CONNECTION = 2;

/** The grpc probes of the Deployment: kind (startupProbe, livenessProbe, readinessProbe) → service name. */
function manifestProbes(): Record<string, string> {
  const manifest = readFileSync(join(PROJECT_ROOT, 'deploy', 'kubernetes', 'deployment.yaml'), 'utf8');
  const found = [...manifest.matchAll(/^\s*(\w+Probe):\s*\n\s*grpc:\s*\n\s*port: 50051\s*\n\s*service: (\S+)/gm)];
  return Object.fromEntries(found.map((m) => [m[1]!, m[2]!]));
}

describeWithTools(['grpc_health_probe'], 'Kubernetes probes with grpc_health_probe', () => {
  let pg: Awaited<ReturnType<typeof startEmbeddedTestPostgres>>;
  let url: string;
  const running: TestService[] = [];

  beforeAll(async () => {
    pg = await startEmbeddedTestPostgres();
    url = (await createEmptyDatabase(pg.adminUrl)).url;
  });
  afterAll(async () => {
    for (const svc of running) await svc.stop().catch(() => undefined);
    await pg?.stop();
  });

  async function start(port: number, overrides: Record<string, string> = {}): Promise<TestService> {
    const env = serviceEnv(url, {
      GRPC_PORT: String(port),
      DB_MIGRATE_ON_START: 'true',
      DB_CONNECT_TIMEOUT: '2',
      DB_RECONNECT_MAX_DELAY_MS: '200',
      DB_HEALTH_CHECK_INTERVAL: '1',
      HEALTH_FAILING_CHECK_INTERVAL: '200ms',
      DB_PING_TIMEOUT: '1',
      ...overrides,
    });
    const svc = await startTestService(loadConfig({ env }));
    running.push(svc);
    return svc;
  }
  const stop = (svc: TestService): Promise<void> => {
    running.splice(running.indexOf(svc), 1);
    return svc.stop();
  };
  const settles = (port: number, service: string, code: number) =>
    waitFor(`grpc_health_probe -service=${service} to exit ${code}`, async () => (await probeExitCode(port, service)) === code, 20_000);

  it('the manifests probe liveness (startup, liveness) and readiness, names the server knows', () => {
    expect(manifestProbes()).toEqual({ startupProbe: 'liveness', livenessProbe: 'liveness', readinessProbe: 'readiness' });
  });

  it('start: no connection before the server listens, then liveness SERVING and readiness SERVING; unknown names exit 3', async () => {
    const port = await freePort();
    expect(await probeExitCode(port, 'liveness')).toBe(NO_CONNECTION);
    const svc = await start(port);
    expect(await probeExitCode(port, 'liveness')).toBe(SERVING);
    await settles(port, 'readiness', SERVING);
    expect(await probeExitCode(port, 'no.such.Service')).toBe(UNKNOWN_SERVICE);
    await stop(svc);
  });

  it('degraded start and a database outage: liveness stays SERVING, readiness is NOT_SERVING until the database is back', async () => {
    await pg.stopServer('fast');
    const port = await freePort();
    await start(port);
    // Degraded start: the process answers, so the kubelet keeps it; no traffic is routed to it.
    expect(await probeExitCode(port, 'liveness')).toBe(SERVING);
    expect(await probeExitCode(port, 'readiness')).toBe(NOT_SERVING);
    await pg.start();
    await settles(port, 'readiness', SERVING);

    // Outage while serving.
    await pg.stopServer('fast');
    await settles(port, 'readiness', NOT_SERVING);
    expect(await probeExitCode(port, 'liveness')).toBe(SERVING);
    await pg.start();
    await settles(port, 'readiness', SERVING);
    expect(await probeExitCode(port, 'liveness')).toBe(SERVING);
  });

  it('drain on shutdown: readiness NOT_SERVING while liveness still answers, then no connection', async () => {
    const port = await freePort();
    const svc = await start(port, { SHUTDOWN_DRAIN_DELAY_MS: '4000' });
    await settles(port, 'readiness', SERVING);
    const stopped = stop(svc);
    await settles(port, 'readiness', NOT_SERVING);
    expect(await probeExitCode(port, 'liveness')).toBe(SERVING);
    await stopped;
    expect(await probeExitCode(port, 'liveness')).toBe(NO_CONNECTION);
    expect(await probeExitCode(port, 'readiness')).toBe(NO_CONNECTION);
  });
});
