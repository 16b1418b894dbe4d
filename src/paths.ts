import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding package.json, found from this file whether run from src/ or dist/src/. */
function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`package.json not found above ${start}`);
  }
}

export const PROJECT_ROOT = findProjectRoot(__dirname);
export const MIGRATIONS_DIR = join(PROJECT_ROOT, 'migrations');
/** Built by `buf build` (npm run generate): served by reflection. */
export const DESCRIPTOR_SET = join(PROJECT_ROOT, 'src', 'generated', 'descriptors.binpb');
/** The service's version (package.json), for the trace resource. */
export const SERVICE_VERSION = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
