/**
 * deploy/kubernetes, checked offline: every file parses, the kustomization
 * lists files that exist, selectors and ports agree with the Deployment and
 * with the service's configuration defaults, the admin port is exposed
 * nowhere, the ConfigMap is a configuration the service accepts, and the
 * release Job runs `migrate up` and then `check` with the service's settings.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config/config';
import { PROJECT_ROOT } from '../src/paths';

const DIR = join(PROJECT_ROOT, 'deploy', 'kubernetes');
/** The admin listener's default port (another listener, loopback only): must not appear in any manifest. */
const ADMIN_PORT = 50052;

type Doc = Record<string, any>;
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const docs: { file: string; doc: Doc }[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return { file, doc: d.toJS() as Doc };
  }),
);
const one = (kind: string, name?: string): Doc => {
  const found = docs.filter((d) => d.doc.kind === kind && (name === undefined || d.doc.metadata?.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name === undefined ? '' : ` ${name}`}, found ${found.length}`);
  return found[0]!.doc;
};
/** Every value of a port field (port, containerPort, targetPort, probe ports) anywhere in a document. */
function portsIn(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(portsIn);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) =>
    /^(port|containerPort|targetPort)$/.test(key) && typeof child !== 'object' ? [child] : portsIn(child),
  );
}
const defaults = loadConfig({ env: { APP_ENV: 'development', DB_HOST: 'db' }, envFile: '/nonexistent/.env' });

describe('deploy/kubernetes', () => {
  it('parses, and the kustomization lists existing files (all but the per-release Job)', () => {
    const kustomization = one('Kustomization');
    const resources = kustomization.resources as string[];
    for (const resource of resources) expect(existsSync(join(DIR, resource))).toBe(true);
    expect(resources).toEqual(expect.arrayContaining(['service-headless.yaml', 'poddisruptionbudget.yaml', 'networkpolicy.yaml']));
    expect(resources).not.toContain('release-job.yaml');
    expect(docs.map((d) => d.doc.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'Job', 'Kustomization', 'NetworkPolicy', 'PodDisruptionBudget', 'Secret', 'Secret', 'Service', 'Service'].sort(),
    );
  });

  it('selects the Deployment’s pods and uses the configured ports; the admin port is exposed nowhere', () => {
    const deployment = one('Deployment');
    const labels = deployment.spec.template.metadata.labels as Record<string, string>;
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    const ports = Object.fromEntries((deployment.spec.template.spec.containers[0].ports as Doc[]).map((p) => [p.name, p.containerPort]));
    expect(ports).toEqual({ grpc: defaults.grpc.port, metrics: defaults.metrics.port });

    const headless = one('Service', 'coaching-service-headless');
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.publishNotReadyAddresses).toBe(false);
    expect(selects(headless.spec.selector)).toBe(true);
    expect(headless.spec.ports).toEqual([{ name: 'grpc', port: defaults.grpc.port, targetPort: 'grpc', appProtocol: 'grpc' }]);

    const pdb = one('PodDisruptionBudget');
    expect(selects(pdb.spec.selector.matchLabels)).toBe(true);
    expect(pdb.spec.maxUnavailable).toBeLessThan(deployment.spec.replicas);

    const policy = one('NetworkPolicy');
    expect(selects(policy.spec.podSelector.matchLabels)).toBe(true);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    const rules = (policy.spec.ingress as Doc[]).map((rule) => ({ from: rule.from, ports: (rule.ports as Doc[]).map((p) => p.port) }));
    expect(rules).toEqual([
      { from: [{ podSelector: {} }], ports: [defaults.grpc.port] },
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [defaults.metrics.port] },
    ]);
    const everyPort = docs.flatMap(({ doc }) => portsIn(doc));
    expect(everyPort).toEqual(expect.arrayContaining([defaults.grpc.port, defaults.metrics.port]));
    expect(everyPort).not.toContain(ADMIN_PORT);
  });

  it('the ConfigMap is a configuration the service accepts', () => {
    const data = one('ConfigMap', 'coaching-service').data as Record<string, string>;
    // What the Deployment adds: the mounted secret files and the page-token secret.
    const env = { ...data, DB_SSL_ROOT_CERT: __filename, DB_PASSWORD_FILE: __filename, PAGE_TOKEN_SECRET: 'a-production-page-secret' };
    const config = loadConfig({ env, envFile: '/nonexistent/.env' });
    expect(config).toMatchObject({ appEnv: 'production', db: { migrateOnStart: false } });
  });

  it('the release Job runs migrate up, then check, with the Deployment’s configuration and secrets', () => {
    const job = one('Job');
    const deployment = one('Deployment');
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.initContainers.map((c: Doc) => c.command)).toEqual([['node', 'dist/src/cli/migrate.js', 'up']]);
    expect(pod.containers.map((c: Doc) => c.command)).toEqual([['node', 'dist/src/cli/check.js']]);
    const app = deployment.spec.template.spec.containers[0];
    for (const container of [...pod.initContainers, ...pod.containers]) {
      expect(container.image).toBe(app.image);
      expect(container.envFrom).toEqual(app.envFrom);
      expect(container.env.find((e: Doc) => e.name === 'DB_PASSWORD_FILE')).toEqual(app.env.find((e: Doc) => e.name === 'DB_PASSWORD_FILE'));
      expect(container.volumeMounts).toEqual(app.volumeMounts);
      expect(container.securityContext).toEqual(app.securityContext);
    }
    expect(pod.volumes).toEqual(deployment.spec.template.spec.volumes);
  });
});
