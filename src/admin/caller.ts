import type { ServerUnaryCall } from '@grpc/grpc-js';

/** Who made an admin call, as far as the transport tells: for authorisation and the audit. */
export interface Caller {
  /** Remote address and port of the connection. */
  readonly peer: string;
  /** Subject of the client certificate, when one was presented and verified (mTLS). */
  readonly certificateSubject: string | undefined;
  /** Whether an `authorization: Bearer …` token came with the call (never the token itself). */
  readonly tokenPresented: boolean;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The caller of `call` and the bearer token it presented (kept apart: the token must not reach the audit). */
export function callerOf<Req, Res>(call: ServerUnaryCall<Req, Res>): { caller: Caller; token: string | undefined } {
  const header = call.metadata.get('authorization')[0];
  const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
  const subject = call.getAuthContext().sslPeerCertificate?.subject;
  const certificateSubject = subject === undefined ? undefined : formatSubject(subject);
  return { caller: { peer: call.getPeer(), certificateSubject, tokenPresented: token !== undefined }, token };
}

/** Longest certificate subject written to an audit line (the certificate's own limits allow kilobytes). */
export const MAX_SUBJECT_LENGTH = 512;

/**
 * A certificate subject as RFC 4514 text ("O=coaching ops, CN=ops-alice"):
 * separators, quotes, backslashes and `=` inside values are escaped, and
 * control characters written as `\XX` hex, so a CN such as `bob, O=admins`
 * cannot pass for another attribute in the audit, and no value can break a
 * line. Capped at {@link MAX_SUBJECT_LENGTH} characters (never inside a code point).
 */
export function formatSubject(subject: Readonly<Record<string, unknown>>): string {
  const text = Object.entries(subject)
    .map(([key, value]) => `${escapeRdn(key)}=${(Array.isArray(value) ? value : [value]).map((v) => escapeRdn(String(v))).join('+')}`)
    .join(', ')
    .toWellFormed();
  if (text.length <= MAX_SUBJECT_LENGTH) return text;
  let end = MAX_SUBJECT_LENGTH - 1;
  if (/[\uDC00-\uDFFF]/.test(text[end] ?? '')) end -= 1;
  return `${text.slice(0, end)}…`;
}

function escapeRdn(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f) out += `\\${code.toString(16).padStart(2, '0').toUpperCase()}`;
    else if (',+"\\<>;='.includes(char)) out += `\\${char}`;
    else out += char;
  }
  // Leading "#" or space and a trailing space are escaped too (RFC 4514 2.4).
  return out.replace(/^([#\s])/, '\\$1').replace(/\s$/, '\\ ');
}
