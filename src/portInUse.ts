import type { Config } from './config/config';

/** The host:port a failed listen names: Node's own EADDRINUSE error, or grpc-js's summary of one. */
function addressInUse(error: unknown): { host: string; port: number } | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, address, port } = error as Error & { code?: string; address?: string; port?: number };
  if (code === 'EADDRINUSE' && port !== undefined) return { host: address ?? '', port };
  // grpc-js: "No address added out of total 1 resolved errors: [listen EADDRINUSE: address already in use 0.0.0.0:50051]"
  const match = /EADDRINUSE[^\]]*?(\S+):(\d+)\]?$/.exec(error.message);
  return match === null ? undefined : { host: match[1]!, port: Number(match[2]) };
}

/**
 * An actionable explanation when the service could not listen because a
 * port is taken, naming the setting that chooses it; undefined for any other error.
 */
export function explainPortInUse(error: unknown, config: Config): string | undefined {
  const taken = addressInUse(error);
  if (taken === undefined) return undefined;
  const key = taken.port === config.grpc.port ? 'GRPC_PORT' : taken.port === config.metrics.port ? 'METRICS_PORT' : undefined;
  return (
    `port ${taken.port} on ${taken.host} is already in use` +
    (key === undefined ? '' : ` (${key})`) +
    ': another process listens there (perhaps another coaching-service); stop it or choose a free port' +
    (key === undefined ? '' : ` with ${key}`)
  );
}
