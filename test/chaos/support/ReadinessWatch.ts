import { grpcHealthApi, ServingStatus } from '../../support/healthClient';

/**
 * Polls grpc.health.v1 Check('readiness') every 25 ms from a real client and
 * records when it changes, so detection and recovery times can be measured.
 */
export class ReadinessWatch {
  readonly changes: { at: number; serving: boolean }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #health: ReturnType<typeof grpcHealthApi>;

  constructor(port: number) {
    this.#health = grpcHealthApi(port);
  }

  start(): void {
    const tick = async (): Promise<void> => {
      const result = await this.#health.call('check', { service: 'readiness' }, { deadlineMs: 500 });
      const serving = result.response?.status === ServingStatus.SERVING;
      if (this.changes.at(-1)?.serving !== serving) this.changes.push({ at: Date.now(), serving });
      if (this.#timer !== undefined) this.#timer = setTimeout(() => void tick(), 25);
    };
    this.#timer = setTimeout(() => void tick(), 0);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#health.client.close();
  }

  /** First time at/after `from` that readiness was `serving`, or undefined. */
  firstAfter(from: number, serving: boolean): number | undefined {
    return this.changes.find((c) => c.at >= from && c.serving === serving)?.at;
  }

  get serving(): boolean | undefined {
    return this.changes.at(-1)?.serving;
  }
}
