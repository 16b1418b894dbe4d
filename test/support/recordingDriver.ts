import { createPgDriverFactory } from '@slonik/pg-driver';
import type { DriverFactory } from 'slonik';

/** The pg driver, recording every statement that reaches it (trimmed text, in order) in `sent`. */
export function recordingDriver(sent: string[]): DriverFactory {
  const pg = createPgDriverFactory();
  return async (options) => {
    const driver = await pg(options);
    return {
      ...driver,
      createClient: async () => {
        const client = await driver.createClient();
        return { ...client, query: (text, values, queryOptions) => (sent.push(text.trim()), client.query(text, values, queryOptions)) };
      },
    };
  };
}
