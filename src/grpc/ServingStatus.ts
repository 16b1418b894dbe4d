import type { HealthImplementation, ServingStatus as Status } from 'grpc-health-check';

/**
 * The statuses published through grpc.health.v1. grpc-health-check writes to
 * every Watch stream on each setStatus, so this class forwards only real changes.
 */
export class ServingStatus {
  readonly #current = new Map<string, Status>();
  #frozen = false;

  constructor(
    private readonly health: HealthImplementation,
    initial: Record<string, Status>,
  ) {
    for (const [name, status] of Object.entries(initial)) this.set(name, status);
  }

  set(name: string, status: Status): void {
    if (this.#frozen || this.#current.get(name) === status) return;
    this.#current.set(name, status);
    this.health.setStatus(name, status);
  }

  /** Shutdown: Watch streams are being ended, so no further status may be written to them. */
  freeze(): void {
    this.#frozen = true;
  }

  get(name: string): Status | undefined {
    return this.#current.get(name);
  }
}
