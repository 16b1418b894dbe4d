import type { Logger } from 'pino';
import type { Config } from '../config/config';
import { StartupError } from '../db/prepareDatabase';
import { createListenerCredentials, reportCertificateLoads, type ListenerCredentials } from '../grpc/tls/serverCredentials';
import type { Metrics, StartupScope } from './ServiceDeps';

/** Runs a listener's setup; a failure (unusable TLS or token files) is a StartupError an operator must fix. */
export function listenerSetup<T>(what: string, setup: () => T): T {
  try {
    return setup();
  } catch (error) {
    throw new StartupError('listener', `${what}: ${(error as Error).message}`, { cause: error });
  }
}

/** The public listener's credentials. Unusable certificate files stop the start before anything connects or listens. */
export function openPublicTls(config: Config, logger: Logger, metrics: Metrics, scope: StartupScope): ListenerCredentials {
  const tls = listenerSetup('gRPC TLS', () => createListenerCredentials(config.grpc.tls, reportCertificateLoads('public', logger, metrics.certificateLoaded)));
  scope.defer(() => tls.close());
  return tls;
}
