import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

/** What one endpoint says about its role (libpq's target_session_attrs asks the same: pg_is_in_recovery()). */
export interface EndpointFacts {
  readonly inRecovery: boolean;
  readonly systemId: string;
  /** Timeline of a writable server, from its current WAL file name; undefined on a standby. */
  readonly timeline: number | undefined;
  /** Current WAL position (primary) or last replayed position (standby). */
  readonly lsn: string;
  /** Last WAL position a standby received; undefined on a primary. */
  readonly receiveLsn: string | undefined;
  /** Commit time of the last transaction a standby replayed (null before the first). */
  readonly replayTime: Date | null;
}

const Row = z.object({
  in_recovery: z.boolean(),
  system_id: z.string(),
  wal_file: z.string().nullable(),
  lsn: z.string().nullable(),
  receive_lsn: z.string().nullable(),
  replay_time: z.number().nullable(),
});

/** One round trip; every function used here is callable by an ordinary role. */
export async function probeEndpoint(db: CommonQueryMethods): Promise<EndpointFacts> {
  const row = await db.one(sql.type(Row)`
    select pg_is_in_recovery() as in_recovery,
           (select system_identifier::text from pg_control_system()) as system_id,
           case when pg_is_in_recovery() then null else pg_walfile_name(pg_current_wal_lsn()) end as wal_file,
           (case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end)::text as lsn,
           pg_last_wal_receive_lsn()::text as receive_lsn,
           pg_last_xact_replay_timestamp() as replay_time`);
  return {
    inRecovery: row.in_recovery,
    systemId: row.system_id,
    timeline: row.wal_file === null ? undefined : parseInt(row.wal_file.slice(0, 8), 16),
    lsn: row.lsn ?? '0/0',
    receiveLsn: row.in_recovery ? (row.receive_lsn ?? undefined) : undefined,
    replayTime: row.replay_time === null ? null : new Date(row.replay_time),
  };
}

/** A WAL position ("16/B374D848") as a byte offset. */
export function lsnBytes(lsn: string): bigint {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high ?? '0'}`) << 32n) + BigInt(`0x${low ?? '0'}`);
}
