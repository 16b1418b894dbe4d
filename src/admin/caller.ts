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
  const certificateSubject =
    subject === undefined
      ? undefined
      : Object.entries(subject)
          .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : String(value)}`)
          .join(', ');
  return { caller: { peer: call.getPeer(), certificateSubject, tokenPresented: token !== undefined }, token };
}
