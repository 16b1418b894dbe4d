/**
 * The round trips of the two hot writes (issue 15: cheaper writes), counted
 * at the pg driver: each statement is one round trip and one socket write,
 * which the profiles show is most of a write's CPU. Same guarantees as the
 * tests of completeSession, contention and lockOrderInOneStatement check;
 * this file only keeps the count from creeping back up.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { DatabasePool } from 'slonik';
import { outboxChangeLog } from '../src/app/events';
import { createDatabasePool } from '../src/db/createDatabasePool';
import { gatewayOnPool } from '../src/db/gatewayOnPool';
import { PageTokenCodec } from '../src/domain/PageTokenCodec';
import { createSessionService } from '../src/services/sessionService';
import { useHarness } from './support/harness';
import { recordingDriver } from './support/recordingDriver';
import { at } from './support/world';
import { ms } from './support/timestamps';

const h = useHarness();

let pool: DatabasePool;
const sent: string[] = [];
beforeAll(async () => {
  pool = await createDatabasePool(h.db.config().db, { driverFactory: recordingDriver(sent) });
});
afterAll(async () => {
  await pool.end();
});

const service = () =>
  createSessionService({
    db: gatewayOnPool(pool, h.db.config(), pino({ level: 'silent' })),
    pageTokens: new PageTokenCodec('test-secret-0123456789'),
    changes: outboxChangeLog(),
  });

/** The statements `work` sends (after the pool has its connection). */
/** The first two words of each statement `work` sends. */
async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
  sent.length = 0;
  await work();
  return sent.map((text) => text.split(/\s+/).slice(0, 2).join(' ').toLowerCase());
}

it('CreateSession is 5 statements: the claim, the locks with the insert, the events with the stored response, in one transaction; its replay 4', async () => {
  const { coach, participant, program } = await h.w.enrolled(3);
  const sessions = service();
  const input = {
    programId: program.id,
    coachId: coach.id,
    participantId: participant.id,
    scheduledStart: new Date(ms(at(7))),
    durationMinutes: 60,
    notes: '',
  };
  const requestId = randomUUID();
  const created = await statementsOf(() => sessions.create(input, requestId));
  // The events' statement is the outbox's (outboxRepository.append): only its place is asserted here.
  expect(created).toEqual(['start transaction', 'insert into', 'with locked', expect.any(String), 'commit']);
  // A replay finds the stored response: the claim and the read of the key, nothing else.
  const replayed = await statementsOf(() => sessions.create(input, requestId));
  expect(replayed).toEqual(['start transaction', 'insert into', 'select operation,', 'commit']);
});

it('CompleteSession is 6 statements: the claim, the locks, both updates, the events with the stored response, in one transaction', async () => {
  const { book } = await h.w.enrolled(3);
  const session = await book(at(8));
  const sessions = service();
  const completed = await statementsOf(() => sessions.complete(session.id, session.etag, '', randomUUID()));
  expect(completed).toEqual(['start transaction', 'insert into', 'select "e"."id",', 'with completed', expect.any(String), 'commit']);
});
