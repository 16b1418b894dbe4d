import { loadConfig, type Config } from '../../src/config/config';
import { ConfigError } from '../../src/config/ConfigError';

/** The configuration `env` gives in the test environment, with no .env file read. */
export function testConfig(env: Record<string, string>): Config {
  return loadConfig({ env: { APP_ENV: 'test', ...env }, envFile: '/nonexistent/.env' });
}

/** The problems the configuration module lists for `env` (fails the test when it accepts it). */
export function configProblems(env: Record<string, string>): readonly string[] {
  try {
    testConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
