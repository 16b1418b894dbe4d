import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../config/config';

/** The configuration in force (an `_info` metric that follows reloads) and the reload outcomes. */
export function createConfigMetrics(registry: Registry) {
  const info = new Gauge({
    name: 'coaching_service_info',
    help: 'Always 1; the labels describe the configuration in force (they follow reloads).',
    labelNames: ['environment', 'database_host', 'database_port', 'database_name', 'database_schema', 'database_tls'] as const,
    registers: [registry],
  });
  const reloads = new Counter({
    name: 'coaching_config_reloads_total',
    help: 'Configuration reloads (SIGHUP, password file change) by outcome: applied, or refused (the previous configuration stays).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const keyChanges = new Counter({
    name: 'coaching_config_key_changes_total',
    help: 'Configuration keys a reload found changed (names only), by what became of the change: applied, refused, or needs-restart.',
    labelNames: ['key', 'outcome'] as const,
    registers: [registry],
  });
  return {
    configKeyChanged: (key: string, outcome: 'applied' | 'refused' | 'needs-restart'): void => {
      keyChanges.inc({ key, outcome });
    },
    configInForce: (config: Config): void => {
      const { db } = config;
      info.reset();
      info.set(
        {
          environment: config.appEnv,
          database_host: db.host,
          database_port: String(db.port),
          database_name: db.name,
          database_schema: db.schema,
          database_tls: db.sslMode,
        },
        1,
      );
    },
    configReloaded: (outcome: 'applied' | 'refused'): void => {
      reloads.inc({ outcome });
    },
  };
}
