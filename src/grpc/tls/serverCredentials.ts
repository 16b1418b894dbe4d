import { experimental, ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { TlsServerConfig } from '../../config/config';
import { FileCertificateProvider, type CertificateLoad } from './FileCertificateProvider';

/** A listener's credentials and their lifecycle. */
export interface ListenerCredentials {
  readonly credentials: ServerCredentials;
  /** Whether the listener speaks TLS. */
  readonly secure: boolean;
  /** Re-reads the certificate files now (SIGHUP); a no-op for plaintext. */
  reload(): void;
  /** Stops watching the files. */
  close(): void;
}

/**
 * Plaintext, or TLS from watched files reloaded without dropping connections; throws at start when the
 * files are unusable. `clientAuth` (none, request, require): README "TLS and mTLS"; the reload: "Design
 * decisions", "Certificates are reloaded through grpc-js's certificate-provider credentials".
 */
export function createListenerCredentials(tls: TlsServerConfig | undefined, onLoad?: (load: CertificateLoad) => void): ListenerCredentials {
  if (tls === undefined) {
    return { credentials: ServerCredentials.createInsecure(), secure: false, reload: () => undefined, close: () => undefined };
  }
  const provider = new FileCertificateProvider(
    { certFile: tls.certFile, keyFile: tls.keyFile, ...(tls.clientAuth !== 'none' && tls.clientCaFile !== undefined && { caFile: tls.clientCaFile }) },
    onLoad,
  );
  provider.watch();
  // grpc-js names these parameters (ca, identity) but passes them on as (identity, ca): the first is the server's own certificate.
  const credentials = experimental.createCertificateProviderServerCredentials(
    provider,
    tls.clientAuth === 'none' ? null : provider,
    tls.clientAuth === 'require',
  );
  return {
    credentials,
    secure: true,
    reload: () => void provider.reload(),
    close: () => provider.close(),
  };
}

/** Logs each certificate (re)load of a listener and hands it to the metrics. */
export function reportCertificateLoads(
  listener: 'public' | 'admin',
  logger: Logger,
  count: (listener: 'public' | 'admin', ok: boolean, notAfter: Date | undefined) => void,
): (load: CertificateLoad) => void {
  return (load) => {
    count(listener, load.ok, load.notAfter);
    if (load.ok) logger.info({ listener, subject: load.subject, notAfter: load.notAfter }, 'TLS certificate in use');
    else logger.error({ listener, reason: load.error }, 'TLS files unusable; the previous certificate stays in use');
  };
}
