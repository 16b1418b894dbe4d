import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';

/** Where token values go so that no log line can show them. */
export interface SecretSink {
  add(value: string | undefined): void;
}

const WATCH_INTERVAL_MS = 1_000;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function readToken(file: string): string {
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 16) throw new Error(`the admin token in ${file} is shorter than 16 characters`);
  return token;
}

/**
 * The bearer token admin calls must present (ADMIN_TOKEN_FILE), or none.
 * Compared in constant time (digests of equal length, timingSafeEqual), so
 * the comparison leaks neither content nor length. The file is re-read when
 * it changes and on reload; an unreadable or too short new token keeps the
 * previous one (and is logged). Every token read is registered with the
 * log scrubber.
 */
export class AdminToken {
  #digest: Buffer | undefined;

  /** Reads the file now; throws at start when it is unusable. */
  constructor(
    private readonly file: string | undefined,
    private readonly deps: { readonly secrets: SecretSink; readonly logger: Logger },
  ) {
    if (file !== undefined) this.#digest = this.#load(file);
  }

  /** Whether calls must present a token. */
  get required(): boolean {
    return this.file !== undefined;
  }

  /** True when no token is required, or `presented` is the token. */
  accepts(presented: string | undefined): boolean {
    if (this.#digest === undefined) return true;
    if (presented === undefined) return false;
    return timingSafeEqual(digest(presented), this.#digest);
  }

  /** Re-reads the file (reload); keeps the previous token when the new one is unusable. */
  reload(): void {
    if (this.file === undefined) return;
    try {
      this.#digest = this.#load(this.file);
      this.deps.logger.info('admin token re-read');
    } catch (error) {
      this.deps.logger.error({ reason: (error as Error).message }, 'admin token file unusable; the previous token stays in force');
    }
  }

  watch(): void {
    if (this.file === undefined) return;
    watchFile(this.file, { interval: WATCH_INTERVAL_MS, persistent: false }, (now, before) => {
      if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) this.reload();
    });
  }

  close(): void {
    if (this.file !== undefined) unwatchFile(this.file);
  }

  #load(file: string): Buffer {
    const token = readToken(file);
    this.deps.secrets.add(token);
    return digest(token);
  }
}
