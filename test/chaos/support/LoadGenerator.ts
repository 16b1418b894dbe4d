import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Role } from '../../../src/generated/coaching/v1/profile';
import type { CoachingServiceClient } from '../../../src/generated/coaching/v1/coaching_service';
import { coachingApi } from '../../support/grpcClient';
import { newProfile } from '../../support/profiles';

/** One finished RPC of the load. */
export interface Outcome {
  readonly at: number;
  readonly method: 'GetProfile' | 'CreateProfile';
  readonly code: status;
  readonly latencyMs: number;
  readonly details?: string;
}

/** A create the server acknowledged (OK): it must exist exactly once afterwards. */
export interface AcknowledgedCreate {
  readonly requestId: string;
  readonly email: string;
  readonly id: string;
}

/**
 * A steady client load through a real gRPC client: `workers` loops, each
 * alternating reads of known profiles and creates with a request_id. Like a
 * careful client, a create that failed is retried with the SAME request_id
 * (so a reply lost after commit must not duplicate it). Bounded by `maxCalls`.
 */
export class LoadGenerator {
  readonly outcomes: Outcome[] = [];
  readonly acknowledged: AcknowledgedCreate[] = [];
  /** Creates that never got an OK (possibly written, must then exist once). */
  readonly unacknowledged: { requestId: string; email: string }[] = [];
  #running = false;
  #loops: Promise<void>[] = [];

  constructor(
    private readonly client: CoachingServiceClient,
    private readonly options: { workers: number; deadlineMs: number; knownIds: string[]; maxCalls?: number; tag: string },
  ) {}

  start(): void {
    this.#running = true;
    for (let w = 0; w < this.options.workers; w++) this.#loops.push(this.loop(w));
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  /** Outcomes since `from` (ms since epoch). */
  since(from: number): Outcome[] {
    return this.outcomes.filter((o) => o.at >= from);
  }

  okSince(from: number): number {
    return this.since(from).filter((o) => o.code === status.OK).length;
  }

  private async loop(worker: number): Promise<void> {
    const api = coachingApi(this.client);
    const maxCalls = this.options.maxCalls ?? 100_000;
    let pending: { requestId: string; email: string; attempts: number } | undefined;
    for (let i = 0; this.#running && this.outcomes.length < maxCalls; i++) {
      if (i % 2 === 0) {
        const id = this.options.knownIds[(worker + i) % this.options.knownIds.length]!;
        const started = performance.now();
        const result = await api.call('getProfile', { id }, { deadlineMs: this.options.deadlineMs });
        this.record('GetProfile', result.error?.code ?? status.OK, started, result.error?.details);
      } else {
        pending ??= { requestId: randomUUID(), email: `${this.options.tag}-${worker}-${i}-${randomUUID().slice(0, 6)}@load.example.com`, attempts: 0 };
        pending.attempts++;
        const started = performance.now();
        const result = await api.call(
          'createProfile',
          {
            profile: newProfile({ role: Role.ROLE_PARTICIPANT, email: pending.email, displayName: 'Load' }),
            requestId: pending.requestId,
          },
          { deadlineMs: this.options.deadlineMs },
        );
        this.record('CreateProfile', result.error?.code ?? status.OK, started, result.error?.details);
        if (result.response?.profile) {
          this.acknowledged.push({ requestId: pending.requestId, email: pending.email, id: result.response.profile.id });
          pending = undefined;
        } else if (pending.attempts >= 50) {
          this.unacknowledged.push(pending);
          pending = undefined;
        }
      }
      // A client backs off briefly after a failure instead of spinning on fast errors.
      const failed = this.outcomes.at(-1)?.code !== status.OK;
      await new Promise((resolve) => (failed ? setTimeout(resolve, 20) : setImmediate(resolve)));
    }
    if (pending !== undefined) this.unacknowledged.push(pending);
  }

  private record(method: Outcome['method'], code: status, started: number, details: string | undefined): void {
    this.outcomes.push({ at: Date.now(), method, code, latencyMs: performance.now() - started, ...(details !== undefined && { details }) });
  }
}
