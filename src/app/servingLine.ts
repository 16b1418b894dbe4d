import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { ListenerCredentials } from '../grpc/tls/serverCredentials';
import type { Listeners } from './listeners';

/** The "coaching-service serving" line, flushed at once: operators and deploy tooling wait for it. */
export function logServing(config: Config, listeners: Listeners, tls: ListenerCredentials, connected: boolean, logger: Logger): void {
  const { admin } = listeners;
  logger.info(
    {
      environment: config.appEnv,
      grpc: `${config.grpc.host}:${listeners.port}`,
      tls: tls.secure ? (config.grpc.tls?.clientAuth === 'none' ? 'tls' : `mtls-${config.grpc.tls?.clientAuth}`) : 'plaintext',
      admin: admin === undefined ? 'disabled' : `${config.admin.host}:${admin.port}`,
      database: {
        host: config.db.host,
        port: config.db.port,
        name: config.db.name,
        schema: config.db.schema,
        tls: config.db.sslMode,
        embedded: config.db.embedded,
      },
      pool: { max: config.db.maxConnections, statementTimeoutMs: config.db.statementTimeoutMs },
      // The collector's origin only: a path or query could carry a token.
      tracing:
        config.tracing.enabled && config.tracing.export !== undefined
          ? {
              protocol: config.tracing.export.protocol,
              collector: new URL(config.tracing.export.url).origin,
              sampler: config.tracing.sampler,
              ratio: config.tracing.samplerRatio,
            }
          : 'off',
      ready: connected,
    },
    'coaching-service serving',
  );
  logger.flush();
}
