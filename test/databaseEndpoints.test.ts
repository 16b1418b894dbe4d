/**
 * The database endpoints, libpq style (config), and the rule that picks the
 * primary among them and fences the others (pure, no server needed).
 */
import { choosePrimary, choosePrimaryByOperator, initialPrimaryState, type EndpointObservation, type PrimaryState } from '../src/db/endpoints/choosePrimary';

import { configProblems as problems, testConfig as load } from './support/configProblems';

describe('database endpoints (libpq multi-host)', () => {
  it('keeps one host as today: DB_HOST and DB_PORT, or DATABASE_URL', () => {
    expect(load({ DB_HOST: 'db', DB_PORT: '6000' }).db).toMatchObject({ host: 'db', port: 6000, endpoints: [{ host: 'db', port: 6000 }] });
    expect(load({ DATABASE_URL: 'postgresql://u:p@db:7000/x' }).db).toMatchObject({
      host: 'db',
      port: 7000,
      name: 'x',
      endpoints: [{ host: 'db', port: 7000 }],
    });
    expect(load({}).db.endpoints).toEqual([{ host: '127.0.0.1', port: 5432 }]);
    // DB_HOST wins over the URL's host; the URL's port stays the default port.
    expect(load({ DATABASE_URL: 'postgresql://u@db:7000/x', DB_HOST: 'localhost' }).db.endpoints).toEqual([{ host: 'localhost', port: 7000 }]);
  });

  it('reads comma-separated hosts with one port for all or one per host', () => {
    expect(load({ DB_HOST: 'a,b,c', DB_PORT: '6432' }).db.endpoints).toEqual([
      { host: 'a', port: 6432 },
      { host: 'b', port: 6432 },
      { host: 'c', port: 6432 },
    ]);
    expect(load({ DB_HOST: 'a, b', DB_PORT: '5433,5434' }).db).toMatchObject({
      host: 'a',
      port: 5433,
      endpoints: [
        { host: 'a', port: 5433 },
        { host: 'b', port: 5434 },
      ],
    });
  });

  it("reads DATABASE_URL's multi-host form, the same database, user, password and sslmode for every host", () => {
    const db = load({ DATABASE_URL: 'postgresql://svc:s3cret@db-a:5433,db-b,[::1]:5435/coaching?sslmode=require' }).db;
    expect(db.endpoints).toEqual([
      { host: 'db-a', port: 5433 },
      { host: 'db-b', port: 5432 },
      { host: '::1', port: 5435 },
    ]);
    expect(db).toMatchObject({ host: 'db-a', port: 5433, name: 'coaching', user: 'svc', password: { kind: 'literal', value: 's3cret' }, sslMode: 'require' });
    // Explicit keys win over the URL's parts, as for one host.
    expect(load({ DATABASE_URL: 'postgresql://svc@a:1,b:2/coaching', DB_PORT: '9' }).db.endpoints).toEqual([
      { host: 'a', port: 9 },
      { host: 'b', port: 9 },
    ]);
  });

  it('names every problem: port count, bad ports, empty or repeated hosts, a bad host list in the URL (without echoing it)', () => {
    expect(problems({ DB_HOST: 'a,b,c', DB_PORT: '1,2' })).toContainEqual(expect.stringMatching(/^DB_PORT lists 2 ports for 3 hosts/));
    expect(problems({ DB_HOST: 'a,b', DB_PORT: '1,x' })).toContainEqual(expect.stringMatching(/^DB_PORT lists a port that is not a whole number/));
    expect(problems({ DB_HOST: 'a,,b' })).toContainEqual(expect.stringMatching(/^DB_HOST has an empty entry/));
    expect(problems({ DB_HOST: 'a,a' })).toContainEqual('DB_HOST lists a:5432 twice');
    const bad = problems({ DATABASE_URL: 'postgresql://u:topsecret@a:1,b:99999/x' });
    expect(bad).toContainEqual(expect.stringMatching(/^DATABASE_URL is not a valid URL/));
    expect(bad.join('\n')).not.toContain('topsecret');
  });
});

const writable = (key: string, timeline: number, systemId = 'S'): EndpointObservation => ({ key, reachable: true, inRecovery: false, systemId, timeline });
const standby = (key: string, systemId = 'S'): EndpointObservation => ({ key, reachable: true, inRecovery: true, systemId });
const down = (key: string): EndpointObservation => ({ key, reachable: false });
const run = (state: PrimaryState, ...observations: EndpointObservation[]) => choosePrimary(state, observations);

describe('choosing the primary, and fencing', () => {
  it('elects the one writable endpoint and keeps it while it is unreachable (it may come back)', () => {
    const first = run(initialPrimaryState, writable('a', 1), standby('b'));
    expect(first.state).toMatchObject({ primary: 'a', timeline: 1, generation: 1, systemId: 'S' });
    const outage = run(first.state, down('a'), standby('b'));
    expect(outage.state).toMatchObject({ primary: 'a', generation: 1 });
    expect(outage.events).toEqual([]);
    expect(run(outage.state, writable('a', 1), standby('b')).state).toMatchObject({ primary: 'a', generation: 1 });
  });

  it('moves to a promoted standby (higher timeline) and fences the old primary, also when it comes back writable', () => {
    const start = run(initialPrimaryState, writable('a', 1), standby('b')).state;
    const promoted = run(start, down('a'), writable('b', 2));
    expect(promoted.state).toMatchObject({ primary: 'b', timeline: 2, generation: 2 });
    expect(promoted.state.fenced).toEqual(new Set(['a']));
    expect(promoted.events).toContainEqual({ kind: 'elected', key: 'b', previous: 'a', timeline: 2 });
    const splitBrain = run(promoted.state, writable('a', 1), writable('b', 2));
    expect(splitBrain.state).toMatchObject({ primary: 'b', generation: 2 });
    expect(splitBrain.state.fenced.has('a')).toBe(true);
    // Even when the new primary is away, the fenced one is not taken back.
    expect(run(splitBrain.state, writable('a', 1), down('b')).state).toMatchObject({ primary: 'b' });
    // Rejoined as a standby: no longer fenced, a standby like any other.
    const rejoined = run(splitBrain.state, standby('a'), writable('b', 2));
    expect(rejoined.state.fenced.size).toBe(0);
    expect(rejoined.events).toContainEqual({ kind: 'unfenced', key: 'a', why: 'it is a standby now' });
  });

  it('follows a planned switchover: the promoted standby wins over a primary that still answers', () => {
    const start = run(initialPrimaryState, writable('a', 3), standby('b')).state;
    const switched = run(start, writable('a', 3), writable('b', 4));
    expect(switched.state).toMatchObject({ primary: 'b', generation: 2 });
    expect(switched.state.fenced.has('a')).toBe(true);
  });

  it('a fresh instance that sees an old and a new primary picks the higher timeline', () => {
    const fresh = run(initialPrimaryState, writable('a', 1), writable('b', 2));
    expect(fresh.state.primary).toBe('b');
    expect(fresh.state.fenced).toEqual(new Set(['a']));
  });

  it('refuses to guess between two writable endpoints on the same timeline', () => {
    const fresh = run(initialPrimaryState, writable('a', 2), writable('b', 2));
    expect(fresh.state.primary).toBeUndefined();
    expect(fresh.events).toContainEqual({ kind: 'ambiguous', keys: ['a', 'b'] });
    const start = run(initialPrimaryState, writable('a', 1), standby('b'), standby('c')).state;
    const both = run(start, down('a'), writable('b', 2), writable('c', 2));
    expect(both.state.primary).toBeUndefined();
  });

  it('never uses an endpoint of another cluster (system identifier), and has no primary when the primary is demoted in place', () => {
    const start = run(initialPrimaryState, writable('a', 1), writable('x', 9, 'OTHER'));
    expect(start.state.primary).toBe('a');
    expect(start.events).toContainEqual({ kind: 'foreign', key: 'x' });
    const demoted = run(start.state, standby('a'));
    expect(demoted.state.primary).toBeUndefined();
    expect(demoted.events).toContainEqual({ kind: 'lost', key: 'a' });
  });

  it('lets an operator choose a fenced old primary; the other writable endpoint is fenced then', () => {
    const start = run(initialPrimaryState, writable('a', 1), standby('b')).state;
    const promoted = run(start, down('a'), writable('b', 2)).state;
    const chosen = choosePrimaryByOperator(promoted, 'a', ['a', 'b']);
    const next = run(chosen, writable('a', 1), writable('b', 2));
    expect(next.state).toMatchObject({ primary: 'a', generation: 3 });
    expect(next.state.fenced).toEqual(new Set(['b']));
  });
});
