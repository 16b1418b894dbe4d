// user:password@ in any URL (postgresql://, http://, ...) and password=... in key/value DSNs.
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s"@]+:)[^@\s"/]+@/gi;
const DSN_PASSWORD = /(\bpassword=)[^\s&"']+/gi;

/**
 * The secret values this process knows (database passwords, current and
 * previous), so that the logger and error paths can scrub them from any text.
 */
export class SecretRegistry {
  readonly #values = new Set<string>();

  add(value: string | undefined): void {
    // Very short values would scrub ordinary words; config rejects none, so keep them but only from 4 chars.
    if (value === undefined || value.length < 4) return;
    this.#values.add(value);
    // Log lines are scrubbed after JSON serialisation, where `"`, `\` and control characters appear escaped.
    this.#values.add(JSON.stringify(value).slice(1, -1));
  }

  scrub(text: string): string {
    let out = text.replace(URL_PASSWORD, '$1[redacted]@').replace(DSN_PASSWORD, '$1[redacted]');
    for (const value of this.#values) {
      if (out.includes(value)) out = out.split(value).join('[redacted]');
    }
    return out;
  }
}
