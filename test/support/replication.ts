import { existsSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './postgresServer';
import { isAlive, mustRun, PG15_BIN, pidFromFile, runAsServerUser, serverFolder, stopPid } from './serverProcesses';
import { queryUrl } from './testDatabase';
import { waitFor } from './waitFor';

/**
 * Real streaming replication on Debian's PostgreSQL 15 for the fault tests:
 * a primary and standbys made with `pg_basebackup -R`, each its own server
 * on a free port, with the operations a failover drill needs (stop, start,
 * promote, split brain, rejoin as a standby, lag and catch-up).
 */

/** The replication role the standbys log in with (scram over TCP); every other login is trusted on loopback. */
export const REPLICATION_USER = 'replicator';
const REPLICATION_PASSWORD = 'replication-test-only';

/** Settings every node gets; a standby inherits the primary's through the base backup. */
const BASE_SETTINGS: Record<string, string> = {
  listen_addresses: "'127.0.0.1'",
  unix_socket_directories: "''",
  wal_level: 'replica',
  max_wal_senders: '10',
  max_replication_slots: '10',
  hot_standby: 'on',
  // A rejoining old primary or a late standby finds the WAL it needs without slots.
  wal_keep_size: "'512MB'",
  // pg_rewind needs hint bits WAL-logged (or data checksums).
  wal_log_hints: 'on',
  // The standby reports its positions every second, so lag is visible quickly.
  wal_receiver_status_interval: "'1s'",
  max_connections: '60',
  shared_buffers: "'32MB'",
  // A test machine never loses power; durability across an OS crash is not what these tests exercise.
  fsync: 'off',
  log_min_messages: 'warning',
};

/** Parses a pg_lsn ("16/B374D848") into a byte position. */
export function lsnToBytes(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

/** What a standby reports about its replay. */
export interface ReplayState {
  /** Commit time of the last transaction replayed (null before the first one). */
  readonly replayTimestamp: Date | null;
  readonly receiveLsn: string | null;
  readonly replayLsn: string | null;
}

/** One PostgreSQL 15 server of the test cluster. */
export class PgNode {
  constructor(
    readonly name: string,
    readonly port: number,
    /** Folder owned by the server user: `data/` and `server.log`. */
    readonly home: string,
  ) {}

  get dataDir(): string {
    return join(this.home, 'data');
  }

  get logFile(): string {
    return join(this.home, 'server.log');
  }

  /** Superuser URL (trust on loopback). */
  url(database = 'postgres', user = 'postgres'): string {
    return `postgresql://${user}@127.0.0.1:${this.port}/${database}`;
  }

  pid(): number | undefined {
    const pid = pidFromFile(join(this.dataDir, 'postmaster.pid'));
    return pid !== undefined && isAlive(pid) ? pid : undefined;
  }

  isRunning(): boolean {
    return this.pid() !== undefined;
  }

  /** The end of the server log, for failure messages. */
  logTail(lines = 30): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
  }

  /** Starts the server and waits until it accepts connections (a standby: once it is consistent). */
  async start(): Promise<void> {
    const result = await runAsServerUser(
      join(PG15_BIN, 'pg_ctl'),
      ['start', '-w', '-t', '90', '-D', this.dataDir, '-l', this.logFile, '-o', `-p ${this.port}`],
      {
        timeoutMs: 120_000,
      },
    );
    if (result.code !== 0) throw new Error(`${this.name} did not start (pg_ctl exited ${result.code}):\n${result.stderr}\n${this.logTail()}`);
  }

  /** `fast`: an orderly shutdown (clients disconnected, checkpoint). `immediate`: like a crash (recovery at next start). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return;
    await stopPid(pid, mode === 'fast' ? 'SIGINT' : 'SIGQUIT', 60_000);
  }

  /** One statement on a fresh connection (the server may have restarted since the last one). */
  query<T extends object = Record<string, unknown>>(text: string, values?: unknown[], database = 'postgres'): Promise<T[]> {
    return queryUrl<T>(this.url(database), text, values);
  }

  async inRecovery(): Promise<boolean> {
    const [row] = await this.query<{ r: boolean }>('select pg_is_in_recovery() as r');
    return row!.r;
  }

  /** Ends recovery: the standby becomes a writable primary on a new timeline (waits until it is). */
  async promote(): Promise<void> {
    const [row] = await this.query<{ ok: boolean }>('select pg_promote(true, 60) as ok');
    if (row?.ok !== true) throw new Error(`${this.name}: pg_promote did not finish within 60 s\n${this.logTail()}`);
  }

  /** The newest WAL position: written (primary) or replayed (standby). */
  async currentLsn(): Promise<string> {
    const [row] = await this.query<{ lsn: string }>(
      'select (case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end)::text as lsn',
    );
    return row!.lsn;
  }

  async replayState(): Promise<ReplayState> {
    const [row] = await this.query<{ ts: Date | null; receive: string | null; replay: string | null }>(
      'select pg_last_xact_replay_timestamp() as ts, pg_last_wal_receive_lsn()::text as receive, pg_last_wal_replay_lsn()::text as replay',
    );
    return { replayTimestamp: row!.ts, receiveLsn: row!.receive, replayLsn: row!.replay };
  }

  /** Holds WAL replay on a standby (it keeps receiving): lag grows until {@link resumeReplay}. */
  async pauseReplay(): Promise<void> {
    await this.query('select pg_wal_replay_pause()');
  }

  async resumeReplay(): Promise<void> {
    await this.query('select pg_wal_replay_resume()');
  }

  /** Sets a server parameter in postgresql.auto.conf (applied at the next start, or reload for sighup ones). */
  configure(settings: Record<string, string>): void {
    const file = join(this.dataDir, 'postgresql.auto.conf');
    const keep = existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => !Object.keys(settings).some((key) => line.trim().startsWith(`${key} `) || line.trim().startsWith(`${key}=`)))
      : [];
    const added = Object.entries(settings).map(([key, value]) => `${key} = ${value}`);
    writeFileSync(file, `${[...keep.filter((l) => l !== ''), ...added].join('\n')}\n`);
  }

  /** Makes the node (stopped) a standby of `primary` at its next start. */
  follow(primary: PgNode): void {
    const conninfo = `host=127.0.0.1 port=${primary.port} user=${REPLICATION_USER} password=${REPLICATION_PASSWORD} application_name=${this.name}`;
    this.configure({ primary_conninfo: `'${conninfo}'` });
    writeFileSync(join(this.dataDir, 'standby.signal'), '');
  }
}

async function newNode(name: string): Promise<PgNode> {
  return new PgNode(name, await freePort(), serverFolder(`pg15-${name}`));
}

/** initdb, streaming-replication settings, a replication role; started. */
export async function startPrimary(name = 'primary', settings: Record<string, string> = {}): Promise<PgNode> {
  const node = await newNode(name);
  await mustRun(join(PG15_BIN, 'initdb'), ['-D', node.dataDir, '-U', 'postgres', '--auth=trust', '--no-locale', '-E', 'UTF8', '--no-sync'], {
    timeoutMs: 120_000,
  });
  appendFileSync(
    join(node.dataDir, 'postgresql.conf'),
    `\n# coaching-service replication test\n${Object.entries({ ...BASE_SETTINGS, ...settings })
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n')}\n`,
  );
  writeFileSync(
    join(node.dataDir, 'pg_hba.conf'),
    [
      `host replication ${REPLICATION_USER} 127.0.0.1/32 scram-sha-256`,
      'host all all 127.0.0.1/32 trust',
      // pg_rewind's source connection and tools run as postgres over TCP.
      'host replication postgres 127.0.0.1/32 trust',
      '',
    ].join('\n'),
  );
  await node.start();
  await node.query(`create role ${REPLICATION_USER} with replication login password '${REPLICATION_PASSWORD}'`);
  return node;
}

/** A streaming standby of `primary`, made with `pg_basebackup -R` (writes standby.signal and primary_conninfo); started. */
export async function startStandby(primary: PgNode, name: string): Promise<PgNode> {
  const node = await newNode(name);
  await baseBackup(primary, node.dataDir, { asStandby: true, applicationName: name });
  await node.start();
  return node;
}

/** `pg_basebackup` of `source` into `target` (WAL streamed along); with `asStandby`, ready to follow it. */
export async function baseBackup(source: PgNode, target: string, options: { asStandby?: boolean; applicationName?: string } = {}): Promise<void> {
  const conninfo = `host=127.0.0.1 port=${source.port} user=${REPLICATION_USER} password=${REPLICATION_PASSWORD} application_name=${options.applicationName ?? 'basebackup'}`;
  await mustRun(
    join(PG15_BIN, 'pg_basebackup'),
    ['-d', conninfo, '-D', target, '-X', 'stream', '-c', 'fast', '--no-sync', ...(options.asStandby === true ? ['-R'] : [])],
    { timeoutMs: 180_000 },
  );
}

/** A new, independent server started from a base backup of `source` (not a standby): the physical-restore drill. */
export async function startFromBaseBackup(source: PgNode, name: string): Promise<PgNode> {
  const node = await baseBackupNode(source, name);
  await node.start();
  return node;
}

/** A new node holding a base backup of `source`, not started (configure recovery first, e.g. point-in-time). */
export async function baseBackupNode(source: PgNode, name: string): Promise<PgNode> {
  const node = await newNode(name);
  await baseBackup(source, node.dataDir, { applicationName: name });
  return node;
}

/** Waits until `standby` has replayed WAL up to `lsn` (bounded). */
export async function waitForReplay(standby: PgNode, lsn: string, timeoutMs = 30_000): Promise<void> {
  const target = lsnToBytes(lsn);
  await waitFor(
    `${standby.name} to replay up to ${lsn}`,
    async () => {
      const { replayLsn } = await standby.replayState();
      return replayLsn !== null && lsnToBytes(replayLsn) >= target;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

/** Waits until `standby` has replayed everything `primary` has written so far. */
export async function catchUp(primary: PgNode, standby: PgNode, timeoutMs = 30_000): Promise<void> {
  await waitForReplay(standby, await primary.currentLsn(), timeoutMs);
}

/** How far `standby` is behind `primary`: bytes of WAL not yet replayed, and its last replayed commit time. */
export async function replicationLag(primary: PgNode, standby: PgNode): Promise<{ bytes: bigint; replayTimestamp: Date | null }> {
  const [primaryLsn, state] = await Promise.all([primary.currentLsn(), standby.replayState()]);
  const replayed = state.replayLsn === null ? 0n : lsnToBytes(state.replayLsn);
  const bytes = lsnToBytes(primaryLsn) - replayed;
  return { bytes: bytes > 0n ? bytes : 0n, replayTimestamp: state.replayTimestamp };
}

/**
 * Turns a stopped old primary into a standby of `newPrimary`. `rewind` runs
 * pg_rewind (fast: copies only what diverged; needs wal_log_hints), `rebuild`
 * takes a fresh base backup. Started afterwards.
 */
export async function rejoinAsStandby(node: PgNode, newPrimary: PgNode, how: 'rewind' | 'rebuild'): Promise<void> {
  await node.stop('fast');
  if (how === 'rewind') {
    // A promoted server records its new timeline in the control file only at its next checkpoint;
    // until then pg_rewind reads both as on the same timeline and rewinds nothing.
    await newPrimary.query('checkpoint');
    await mustRun(
      join(PG15_BIN, 'pg_rewind'),
      ['-D', node.dataDir, `--source-server=host=127.0.0.1 port=${newPrimary.port} user=postgres dbname=postgres`, '--no-sync'],
      {
        timeoutMs: 180_000,
      },
    );
  } else {
    rmSync(node.dataDir, { recursive: true, force: true });
    await baseBackup(newPrimary, node.dataDir, { applicationName: node.name });
  }
  node.follow(newPrimary);
  await node.start();
}

/** A primary and its standbys. */
export interface ReplicationCluster {
  readonly primary: PgNode;
  readonly standbys: readonly PgNode[];
  /** Every node ever started for this cluster (also the ones a test moved between roles). */
  readonly nodes: readonly PgNode[];
  /** Stops every node (immediate) and removes its folder. */
  teardown(): Promise<void>;
}

export async function startReplicationCluster(options: { standbys?: number; settings?: Record<string, string> } = {}): Promise<ReplicationCluster> {
  const nodes: PgNode[] = [];
  const teardown = async (): Promise<void> => {
    for (const node of nodes) {
      await node.stop('immediate').catch(() => undefined);
      rmSync(node.home, { recursive: true, force: true });
    }
  };
  try {
    const primary = await startPrimary('primary', options.settings);
    nodes.push(primary);
    const standbys: PgNode[] = [];
    for (let i = 1; i <= (options.standbys ?? 1); i++) {
      const standby = await startStandby(primary, `standby${i}`);
      nodes.push(standby);
      standbys.push(standby);
    }
    return { primary, standbys, nodes, teardown };
  } catch (error) {
    await teardown();
    throw error;
  }
}

/**
 * Registers beforeAll/afterAll for a test file: one cluster shared by the
 * file's tests (setting one up costs seconds), stopped even when tests fail.
 */
export function useReplicationCluster(options: { standbys?: number; settings?: Record<string, string> } = {}): () => ReplicationCluster {
  let cluster: ReplicationCluster | undefined;
  beforeAll(async () => {
    cluster = await startReplicationCluster(options);
  }, 240_000);
  afterAll(async () => {
    await cluster?.teardown();
  }, 120_000);
  return () => {
    if (cluster === undefined) throw new Error('the replication cluster is set up in beforeAll; use it inside tests');
    return cluster;
  };
}
