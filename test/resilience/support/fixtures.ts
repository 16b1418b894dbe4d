import { randomBytes } from 'node:crypto';
import { queryUrl } from '../../support/testDatabase';

export { newProfile } from '../../support/profiles';
export { isListening } from '../../support/processes';
export { queryUrl as queryOnce } from '../../support/testDatabase';

/** Creates an empty (unmigrated) database on the server of `adminUrl`; returns its URL. */
export async function createEmptyDatabase(adminUrl: string): Promise<{ name: string; url: string }> {
  const name = `coaching_r_${randomBytes(5).toString('hex')}`;
  await queryUrl(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}
