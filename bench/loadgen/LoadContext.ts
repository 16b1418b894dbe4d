import { credentials, Client, Metadata, type CallOptions, type ChannelCredentials, type ClientUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { Pool } from 'pg';
import { CoachingServiceClient } from '../../src/generated/coaching/v1/coaching_service';
import type { RunSpec } from './protocol';

/** A unary method of a generated client, in its (request, metadata, options, callback) form. */
export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/**
 * What workloads share inside one load-generator process: the run's spec, a
 * seeded random source, the run's consumables, and lazily made clients (one
 * gRPC channel, or one `pg` pool, for all workers).
 */
export class LoadContext {
  readonly consumed = { completions: 0, slots: 0 };
  #state: number;
  #coaching: CoachingServiceClient | undefined;
  #generic: Client | undefined;
  #pool: Pool | undefined;
  readonly #others: Client[] = [];

  constructor(readonly spec: RunSpec) {
    this.#state = spec.seed >>> 0 || 1;
  }

  /** A pseudo-random integer in [0, n) (xorshift32: cheap and reproducible). */
  random(n: number): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state % n;
  }

  /** The next SCHEDULED session index (k) this run may complete, or undefined when its share is used up. */
  nextCompletion(): number | undefined {
    const k = this.spec.completeFrom + this.consumed.completions;
    if (k >= this.spec.completeTo) return undefined;
    this.consumed.completions++;
    return k;
  }

  /** The next booking slot no other run or call uses. */
  nextSlot(): number {
    return this.spec.slotFrom + this.consumed.slots++;
  }

  get address(): string {
    return `127.0.0.1:${this.spec.grpcPort}`;
  }

  coaching(): CoachingServiceClient {
    this.#coaching ??= new CoachingServiceClient(this.address, credentials.createInsecure());
    return this.#coaching;
  }

  /** A plain grpc-js client for hand-written methods (the empty RPC). */
  generic(): Client {
    this.#generic ??= new Client(this.address, credentials.createInsecure());
    return this.#generic;
  }

  /** Another generated client on the same target (e.g. the health service), closed with the context. */
  own<T extends Client>(make: (address: string, creds: ChannelCredentials) => T): T {
    const client = make(this.address, credentials.createInsecure());
    this.#others.push(client);
    return client;
  }

  pool(): Pool {
    if (this.#pool === undefined) {
      this.#pool = new Pool({ connectionString: this.spec.databaseUrl, max: this.spec.poolSize });
      this.#pool.on('error', () => undefined);
    }
    return this.#pool;
  }

  callOptions(): Partial<CallOptions> {
    return this.spec.deadlineMs > 0 ? { deadline: Date.now() + this.spec.deadlineMs } : {};
  }

  /** Calls a generated unary method and settles with its response. */
  unary<Req, Res>(method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      method(request, new Metadata(), this.callOptions(), (error, response) => (error ? reject(error) : resolve(response)));
    });
  }

  async close(): Promise<void> {
    this.#coaching?.close();
    this.#generic?.close();
    for (const client of this.#others) client.close();
    await this.#pool?.end();
  }
}
