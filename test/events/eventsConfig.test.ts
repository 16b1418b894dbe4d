import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, secretValues } from '../../src/config/config';
import { ConfigError } from '../../src/config/ConfigError';

const base = { APP_ENV: 'test', DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/coaching', ENV_FILE: '/nonexistent/.env' };
const problemsOf = (env: Record<string, string>): readonly string[] => {
  try {
    loadConfig({ env: { ...base, ...env } });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe('events configuration', () => {
  it('defaults: no Redis, stream coaching.events, 7 days of retention', () => {
    const { events } = loadConfig({ env: base });
    expect(events).toMatchObject({
      redis: undefined,
      stream: 'coaching.events',
      maxDeliveries: 5,
      deadLetterAfterMs: 60_000,
      retentionMs: 7 * 86_400_000,
      idempotencyRetentionMs: 7 * 86_400_000,
    });
  });

  it('reads durations with units, TLS from rediss://, and registers the Redis passwords as secrets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'redis-pass-'));
    writeFileSync(join(dir, 'pw'), 'file-secret-123\n');
    const config = loadConfig({
      env: {
        ...base,
        REDIS_URL: 'rediss://:url-secret-456@redis.internal:6380',
        REDIS_PASSWORD_FILE: join(dir, 'pw'),
        EVENTS_RETENTION: '36h',
        EVENTS_DEAD_LETTER_AFTER: '500ms',
      },
    });
    expect(config.events.redis).toMatchObject({ tls: true, passwordFile: join(dir, 'pw') });
    expect(config.events.retentionMs).toBe(36 * 3_600_000);
    expect(config.events.deadLetterAfterMs).toBe(500);
    expect(secretValues(config)).toEqual(expect.arrayContaining(['url-secret-456', 'file-secret-123']));
  });

  it('states duration bounds in a readable unit', () => {
    expect(problemsOf({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_COMMAND_TIMEOUT: '0ms', EVENTS_RETENTION: '0s' })).toEqual([
      'REDIS_COMMAND_TIMEOUT must be a duration such as 500ms, 30s, 15m, 24h or 7d, from 50ms to 1m, got "0ms"',
      expect.stringMatching(/^EVENTS_RETENTION must be a duration .* from 1s to 3650d, got "0s"$/),
    ]);
  });

  it('lists every invalid events setting at once, naming the key and never echoing the Redis URL', () => {
    const problems = problemsOf({
      REDIS_URL: 'http://:hunter2@redis:6379',
      EVENTS_STREAM: 'has spaces',
      EVENTS_RETENTION: 'forever',
      EVENTS_MAX_DELIVERIES: '0',
      REDIS_PASSWORD_FILE: '/nonexistent/pw',
    });
    expect(problems.map((p) => p.split(' ')[0])).toEqual(
      expect.arrayContaining(['REDIS_URL', 'EVENTS_STREAM', 'EVENTS_RETENTION', 'EVENTS_MAX_DELIVERIES', 'REDIS_PASSWORD_FILE']),
    );
    expect(problems.join('\n')).not.toContain('hunter2');
  });
});
