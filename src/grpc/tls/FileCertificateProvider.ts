import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { experimental } from '@grpc/grpc-js';

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/** The files of one TLS listener. */
export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string;
}

/** What a (re)load found, for logs and metrics. */
export interface CertificateLoad {
  readonly ok: boolean;
  /** Subject and expiry of the certificate now in use (the previous one when the new files were refused). */
  readonly subject?: string;
  readonly notAfter?: Date;
  /** Why new files were refused; never contains key material. */
  readonly error?: string;
}

interface Loaded {
  readonly certificate: Buffer;
  readonly privateKey: Buffer;
  readonly caCertificate: Buffer | undefined;
  readonly fingerprint: string;
  readonly subject: string;
  readonly notAfter: Date;
}

/** Stat polling interval: survives the symlink swaps Kubernetes uses to update mounted Secrets. */
const WATCH_INTERVAL_MS = 1_000;

/**
 * A grpc-js CertificateProvider over PEM files. Unlike grpc-js's own
 * FileWatcherCertificateProvider (which re-reads on a timer and withdraws
 * the credentials, so that every new connection is dropped, whenever a read
 * fails), it validates the files before publishing: a missing file, a key
 * that does not match the certificate or a half-written rotation keeps the
 * previous certificate in use and is reported. New connections get the new
 * certificate; open connections keep theirs.
 */
export class FileCertificateProvider implements experimental.CertificateProvider {
  readonly #caListeners = new Set<CaListener>();
  readonly #identityListeners = new Set<IdentityListener>();
  #current: Loaded;
  #watching = false;

  /** Loads the files now; throws (at start, before anything listens) when they are unusable. */
  constructor(
    private readonly files: CertificateFiles,
    private readonly onLoad: (load: CertificateLoad) => void = () => undefined,
  ) {
    this.#current = this.#read();
    onLoad(this.#describe({ ok: true }));
  }

  /** Subject and expiry of the certificate in use. */
  get current(): { subject: string; notAfter: Date } {
    return { subject: this.#current.subject, notAfter: this.#current.notAfter };
  }

  /** Watches the files and reloads when any of them changes. */
  watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    for (const file of this.#paths()) {
      watchFile(file, { interval: WATCH_INTERVAL_MS, persistent: false }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) this.reload();
      });
    }
  }

  /** Re-reads the files now (file change, SIGHUP); publishes them when they changed and are valid. */
  reload(): CertificateLoad {
    let next: Loaded;
    try {
      next = this.#read();
    } catch (error) {
      const load = this.#describe({ ok: false, error: error instanceof Error ? error.message : String(error) });
      this.onLoad(load);
      return load;
    }
    if (next.fingerprint === this.#current.fingerprint) return this.#describe({ ok: true });
    this.#current = next;
    for (const listener of this.#identityListeners) listener({ certificate: next.certificate, privateKey: next.privateKey });
    for (const listener of this.#caListeners) if (next.caCertificate !== undefined) listener({ caCertificate: next.caCertificate });
    const load = this.#describe({ ok: true });
    this.onLoad(load);
    return load;
  }

  close(): void {
    for (const file of this.#paths()) unwatchFile(file);
    this.#watching = false;
  }

  addCaCertificateListener(listener: CaListener): void {
    this.#caListeners.add(listener);
    const ca = this.#current.caCertificate;
    // Asynchronously, as grpc-js expects: its credentials subscribe before registering the server's watcher.
    if (ca !== undefined) process.nextTick(() => listener({ caCertificate: ca }));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.#caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.add(listener);
    const { certificate, privateKey } = this.#current;
    process.nextTick(() => listener({ certificate, privateKey }));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.delete(listener);
  }

  #paths(): string[] {
    return [this.files.certFile, this.files.keyFile, ...(this.files.caFile === undefined ? [] : [this.files.caFile])];
  }

  #describe(outcome: { ok: boolean; error?: string }): CertificateLoad {
    return { ...outcome, subject: this.#current.subject, notAfter: this.#current.notAfter };
  }

  #read(): Loaded {
    const certificate = readFileSync(this.files.certFile);
    const privateKey = readFileSync(this.files.keyFile);
    const caCertificate = this.files.caFile === undefined ? undefined : readFileSync(this.files.caFile);
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(certificate);
      // Throws when the key does not match the certificate or any PEM is malformed.
      createSecureContext({ cert: certificate, key: privateKey, ...(caCertificate !== undefined && { ca: caCertificate }) });
    } catch (error) {
      // OpenSSL's message names the problem ("key values mismatch"), never the key itself.
      throw new Error(`TLS files ${this.files.certFile} / ${this.files.keyFile} are not usable: ${(error as Error).message}`, { cause: error });
    }
    const fingerprint = createHash('sha256')
      .update(certificate)
      .update(privateKey)
      .update(caCertificate ?? '')
      .digest('hex');
    return { certificate, privateKey, caCertificate, fingerprint, subject: leaf.subject.replace(/\n/g, ', '), notAfter: new Date(leaf.validTo) };
  }
}
