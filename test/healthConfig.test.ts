import { loadConfig } from '../src/config/config';
import { configProblems as problemsOf, testConfig as load } from './support/configProblems';

describe('health, alerting and metrics configuration', () => {
  it('defaults to probing every 30 s (2 s while failing), alerting after 3 failures, metrics on 9464 outside tests', () => {
    const config = loadConfig({ env: { APP_ENV: 'development', ENV_FILE: '/nonexistent/.env', DB_EMBEDDED: 'true' } });
    expect(config.db.healthCheckIntervalMs).toBe(30_000);
    expect(config.db.pingTimeoutMs).toBe(5_000);
    expect(config.health).toEqual({ failingCheckIntervalMs: 2_000, alertAfterFailures: 3, historySize: 500, dependencies: [] });
    expect(config.alerting).toEqual({
      webhookUrl: undefined,
      webhookTimeoutMs: 5_000,
      webhookMaxAttempts: 5,
      instanceId: expect.stringMatching(/-\d+$/),
      pagerLease: true,
    });
    // Development binds metrics to loopback; staging and production (scraped over the pod network) to every interface.
    expect(config.metrics).toEqual({ enabled: true, host: '127.0.0.1', port: 9464 });
    // Worst case from an idle outage to the alert with the defaults: 30 s + 3 probes of at most 5 s each, 2 s apart (the bound is 2 minutes).
    expect(config.db.healthCheckIntervalMs + config.health.alertAfterFailures * (config.db.pingTimeoutMs + config.health.failingCheckIntervalMs)).toBeLessThan(
      120_000,
    );
    expect(load({}).metrics.port).toBe(0);
  });

  it('accepts probe timings in seconds or milliseconds', () => {
    const config = load({ DB_HEALTH_CHECK_INTERVAL: '250ms', HEALTH_FAILING_CHECK_INTERVAL: '100ms', DB_PING_TIMEOUT: '2' });
    expect([config.db.healthCheckIntervalMs, config.health.failingCheckIntervalMs, config.db.pingTimeoutMs]).toEqual([250, 100, 2_000]);
    expect(problemsOf({ DB_PING_TIMEOUT: '5ms', HEALTH_FAILING_CHECK_INTERVAL: '20', DB_HEALTH_CHECK_INTERVAL: '10' })).toEqual([
      'DB_PING_TIMEOUT must be from 100ms to 600 seconds, got 5ms',
      'HEALTH_FAILING_CHECK_INTERVAL must not exceed DB_HEALTH_CHECK_INTERVAL (it is the faster re-probe while failing)',
    ]);
  });

  it('parses HEALTH_DEPENDENCIES with per-entry defaults', () => {
    const config = load({
      DB_HEALTH_CHECK_INTERVAL: '15',
      DB_PING_TIMEOUT: '3',
      HEALTH_DEPENDENCIES: JSON.stringify([
        { name: 'ledger-service', type: 'GRPC_SERVICE', target: 'ledger.internal:50051', service: 'ledger.v1.LedgerService', critical: true },
        { name: 'billing-api', type: 'HTTP_SERVICE', url: 'https://billing.internal/healthz', intervalSeconds: 60, timeoutSeconds: 1 },
      ]),
    });
    expect(config.health.dependencies).toEqual([
      {
        type: 'GRPC_SERVICE',
        name: 'ledger-service',
        critical: true,
        target: 'ledger.internal:50051',
        service: 'ledger.v1.LedgerService',
        tls: false,
        intervalMs: 15_000,
        timeoutMs: 3_000,
      },
      { type: 'HTTP_SERVICE', name: 'billing-api', critical: false, url: 'https://billing.internal/healthz', intervalMs: 60_000, timeoutMs: 1_000 },
    ]);
  });

  it('lists every problem at once and never echoes a URL (it may hold credentials)', () => {
    const secretUrl = 'ftp://user:Hidden-Pa55@files.internal/health';
    const problems = problemsOf({
      HEALTH_DEPENDENCIES: JSON.stringify([
        { name: 'Bad Name', type: 'HTTP_SERVICE', url: secretUrl },
        { name: 'cache', type: 'CACHE', target: 'redis:6379' },
        { name: 'ledger', type: 'GRPC_SERVICE', target: 'no-port', extra: 1 },
      ]),
      ALERT_WEBHOOK_URL: 'hooks.internal/Hidden-Token',
      HEALTH_ALERT_AFTER_FAILURES: '0',
      METRICS_PORT: '50051',
      GRPC_PORT: '50051',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^HEALTH_DEPENDENCIES\[0\]\.name /),
        expect.stringMatching(/^HEALTH_DEPENDENCIES\[0\]\.url must be an http:\/\/ or https:\/\/ URL/),
        expect.stringMatching(/^HEALTH_DEPENDENCIES\[1\]\.type /),
        expect.stringMatching(/^HEALTH_DEPENDENCIES\[2\]\.target must be host:port/),
        expect.stringMatching(/^HEALTH_DEPENDENCIES\[2\] .*extra/),
        'ALERT_WEBHOOK_URL must be an http:// or https:// URL',
        'HEALTH_ALERT_AFTER_FAILURES must be a whole number from 1 to 100, got "0"',
        'METRICS_PORT must differ from GRPC_PORT (50051)',
      ]),
    );
    expect(problems.join('\n')).not.toContain('Hidden');
    expect(problemsOf({ HEALTH_DEPENDENCIES: '[{' })).toEqual([expect.stringMatching(/^HEALTH_DEPENDENCIES is not valid JSON/)]);
    expect(
      problemsOf({
        HEALTH_DEPENDENCIES: JSON.stringify([
          { name: 'postgresql-primary', type: 'HTTP_SERVICE', url: 'http://a/' },
          { name: 'x', type: 'HTTP_SERVICE', url: 'http://b/' },
          { name: 'x', type: 'HTTP_SERVICE', url: 'http://c/' },
        ]),
      }),
    ).toEqual([
      'HEALTH_DEPENDENCIES[0].name "postgresql-primary" is used twice (or is the reserved database name)',
      'HEALTH_DEPENDENCIES[2].name "x" is used twice (or is the reserved database name)',
    ]);
  });
});
