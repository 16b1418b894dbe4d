import { randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Client } from 'pg';
import { Role, type Profile } from '../../../src/generated/coaching/v1/profile';

/** A valid new profile with a unique email. */
export function newProfile(overrides: Partial<Profile> = {}): Profile {
  return {
    id: '',
    role: Role.ROLE_PARTICIPANT,
    email: `resilience-${randomUUID().slice(0, 12)}@example.com`,
    displayName: 'Resilience Test',
    timezone: 'UTC',
    bio: '',
    createTime: undefined,
    updateTime: undefined,
    etag: '',
    ...overrides,
  };
}

/** Runs one statement on a fresh connection (the server may have restarted since the last one). */
export async function queryOnce<T extends object = Record<string, unknown>>(url: string, text: string, values?: unknown[]): Promise<T[]> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates an empty (unmigrated) database on the server of `adminUrl`; returns its URL. */
export async function createEmptyDatabase(adminUrl: string): Promise<{ name: string; url: string }> {
  const name = `coaching_r_${randomBytes(5).toString('hex')}`;
  await queryOnce(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
