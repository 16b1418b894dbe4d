import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One numbered migration: `NNNN_name.up.sql` with its `NNNN_name.down.sql`. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: string;
  readonly down: string;
  /** sha256 of the up script: an edited, already-applied migration is detected. */
  readonly checksum: string;
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$/;

/** Reads the migration files of a folder, in version order; throws on gaps or missing halves. */
export function loadMigrations(dir: string): Migration[] {
  const parts = new Map<number, { name: string; up?: string; down?: string }>();
  for (const file of readdirSync(dir)) {
    const match = FILE.exec(file);
    if (!match) continue;
    const [, v, name, direction] = match as unknown as [string, string, string, 'up' | 'down'];
    const version = Number(v);
    const entry = parts.get(version) ?? { name };
    if (entry.name !== name) throw new Error(`migration ${v} has two names: ${entry.name} and ${name}`);
    entry[direction] = readFileSync(join(dir, file), 'utf8');
    parts.set(version, entry);
  }
  const versions = [...parts.keys()].sort((a, b) => a - b);
  return versions.map((version, index) => {
    const entry = parts.get(version)!;
    if (version !== index + 1) throw new Error(`migration versions must be 1..n without gaps; found ${version} at position ${index + 1}`);
    if (entry.up === undefined || entry.down === undefined) throw new Error(`migration ${version}_${entry.name} needs both .up.sql and .down.sql`);
    return { version, name: entry.name, up: entry.up, down: entry.down, checksum: createHash('sha256').update(entry.up).digest('hex') };
  });
}
