import { Writable } from 'node:stream';
import { startService, type RunningService } from '../../src/app';
import type { Config } from '../../src/config/config';
import { createLogger } from '../../src/log/createLogger';
import { RequestContext } from '../../src/log/RequestContext';
import { SecretRegistry } from '../../src/log/SecretRegistry';
import { readPassword } from '../../src/config/config';
import { coachingClient } from './grpcClient';
import type { CoachingServiceClient } from '../../src/generated/coaching/v1/coaching_service';

/** Log lines a service wrote, parsed, for assertions on logging. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      this.lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  records(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface TestService {
  readonly service: RunningService;
  readonly client: CoachingServiceClient;
  readonly logs: LogCapture;
  stop(): Promise<void>;
}

export interface TestServiceOptions {
  logLevel?: string;
  reloadConfig?: () => Config;
  secrets?: SecretRegistry;
}

/** Starts the real service on 127.0.0.1:0 with a real client; logs are captured, not printed. */
export async function startTestService(config: Config, options: TestServiceOptions = {}): Promise<TestService> {
  const logs = new LogCapture();
  const secrets = options.secrets ?? new SecretRegistry();
  secrets.add(readPassword(config.db.password));
  const requestContext = new RequestContext();
  const logger = createLogger({ level: options.logLevel ?? 'info', secrets, requestContext, destination: logs.stream });
  const service = await startService(config, {
    logger,
    secrets,
    requestContext,
    ...(options.reloadConfig !== undefined && { reloadConfig: options.reloadConfig }),
  });
  const client = coachingClient(service.port);
  let stopping: Promise<void> | undefined;
  return {
    service,
    client,
    logs,
    // Once: a test may stop its service itself before the harness's afterAll does.
    stop() {
      stopping ??= (async () => {
        client.close();
        await service.stop();
      })();
      return stopping;
    },
  };
}
