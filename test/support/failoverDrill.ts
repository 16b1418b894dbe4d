import { status } from '@grpc/grpc-js';
import { CoachingServiceError, createCoachingClient } from '../../src/client';
import type { ChaosRow } from '../chaos/support/summary';
import { newProfile } from './profiles';
import type { PgNode } from './replication';
import { waitFor } from './waitFor';

/** Probing and breaker settings that make a failover drill notice a dead primary within about a second. */
export const FAST_FAILOVER_ENV = {
  DB_HEALTH_CHECK_INTERVAL: '250ms',
  HEALTH_FAILING_CHECK_INTERVAL: '250ms',
  DB_PING_TIMEOUT: '1000ms',
  DB_CONNECT_TIMEOUT: '1',
  DB_BREAKER_CONSECUTIVE_FAILURES: '2',
  DB_BREAKER_HALF_OPEN_AFTER_MS: '500',
} as const;

/** Emails of the profiles on one node that start with `prefix`. */
export async function emailsOn(node: PgNode, prefix: string, database = 'coaching'): Promise<string[]> {
  return (await node.query<{ email: string }>('select email from profiles where email like $1 order by email', [`${prefix}%`], database)).map((r) => r.email);
}

/**
 * Writes under load through the typed client (which retries UNAVAILABLE
 * writes with their request_id, honouring the pushback) while the primary is
 * killed and the standby promoted. Counts what a caller saw: failed RPCs by
 * code, acknowledged writes missing on the new primary (lost), and writes
 * applied twice (a retry of an applied write refused as EMAIL_TAKEN instead of
 * answered from its request_id).
 */
export async function failoverDrill(options: {
  readonly scenario: string;
  readonly port: number;
  readonly oldPrimary: PgNode;
  readonly promoted: PgNode;
  readonly prefix: string;
}): Promise<ChaosRow & { toFirstWriteS: number }> {
  const { oldPrimary, promoted, prefix } = options;
  const client = createCoachingClient({ target: `127.0.0.1:${options.port}`, tls: false, defaultDeadlineMs: 5_000 });
  const codes: status[] = [];
  const acknowledged: string[] = [];
  let duplicated = 0;
  let loading = true;
  let promotedAt: number | undefined;
  let firstWriteAfter: number | undefined;
  const write = async (i: number): Promise<void> => {
    const email = `${prefix}-load-${i}@example.com`;
    try {
      await client.createProfile({ profile: newProfile({ email }) });
      codes.push(status.OK);
      acknowledged.push(email);
      if (promotedAt !== undefined && firstWriteAfter === undefined) firstWriteAfter = performance.now();
    } catch (error) {
      if (!(error instanceof CoachingServiceError)) throw error;
      codes.push(error.code);
      if (error.reason === 'EMAIL_TAKEN') duplicated++;
    }
  };
  try {
    const load = (async () => {
      for (let i = 0; loading; i++) await write(i);
    })();
    await waitFor('some writes under load', () => acknowledged.length >= 5);
    await oldPrimary.stop('immediate');
    promotedAt = performance.now();
    await promoted.promote();
    await waitFor('the first acknowledged write after the promotion', () => firstWriteAfter !== undefined, 30_000);
    const after = acknowledged.length;
    await waitFor('more writes after the promotion', () => acknowledged.length >= after + 5, 30_000);
    loading = false;
    await load;
  } finally {
    loading = false;
    client.close();
  }
  const present = new Set(await emailsOn(promoted, `${prefix}-load-`));
  const failedByCode: Record<string, number> = {};
  for (const code of codes) if (code !== status.OK) failedByCode[status[code] ?? String(code)] = (failedByCode[status[code] ?? String(code)] ?? 0) + 1;
  const toFirstWriteS = (firstWriteAfter! - promotedAt) / 1000;
  return {
    scenario: options.scenario,
    recoverS: toFirstWriteS,
    toFirstWriteS,
    failedByCode,
    lost: acknowledged.filter((e) => !present.has(e)).length,
    duplicated,
    calls: codes.length,
  };
}
