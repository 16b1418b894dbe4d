/** Secret keys are censored at any depth, in fields, errors and bindings (src/log/boundLogFields.ts), with nothing registered. */
import { createLogger } from '../src/log/createLogger';
import { SecretRegistry } from '../src/log/SecretRegistry';
import { LogCapture } from './support/testService';

class Settings {
  constructor(
    readonly host: string,
    readonly password: string,
  ) {}
}

it('writes [redacted] for password and connectionString, top level, nested, in class instances, errors and bindings', () => {
  const logs = new LogCapture();
  const logger = createLogger({ level: 'info', secrets: new SecretRegistry(), destination: logs.stream });
  logger.info({ password: 'p-top', db: { password: 'p-db', host: 'h' }, config: { db: { password: 'p-config', port: 5432 } } }, 'fields');
  logger.info({ connectionString: 'host=h user=u', deep: { a: { b: { connectionString: 'c-deep' } } } }, 'connection strings');
  logger.info({ settings: new Settings('h', 'p-instance') }, 'instance');
  logger.error({ err: Object.assign(new Error('failed'), { password: 'p-error' }) }, 'error');
  logger.child({ password: 'p-binding', module: 'm' }).info('binding');
  logger.info({ password: undefined, user: 'u' }, 'undefined stays out');

  for (const secret of ['p-top', 'p-db', 'p-config', 'host=h user=u', 'c-deep', 'p-instance', 'p-error', 'p-binding'])
    expect(logs.text()).not.toContain(secret);
  const [fields, strings, instance, error, binding, absent] = logs.records();
  expect(fields).toMatchObject({ password: '[redacted]', db: { password: '[redacted]', host: 'h' }, config: { db: { password: '[redacted]', port: 5432 } } });
  expect(strings).toMatchObject({ connectionString: '[redacted]', deep: { a: { b: { connectionString: '[redacted]' } } } });
  expect(instance).toMatchObject({ settings: { host: 'h', password: '[redacted]' } });
  expect(error).toMatchObject({ err: { type: 'Error', message: 'failed', password: '[redacted]', stack: expect.stringContaining('logCensor.test.ts') } });
  expect(binding).toMatchObject({ password: '[redacted]', module: 'm', msg: 'binding' });
  expect(absent).toMatchObject({ user: 'u' });
  expect(absent).not.toHaveProperty('password');
});
