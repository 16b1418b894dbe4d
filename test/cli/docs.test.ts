/**
 * The doc test: every grpcurl and grpc_health_probe command in README.md and
 * docs/runbook.md runs as written, in document order, against a live service
 * with the development seed (what `npm start` serves), and what the docs show
 * must be what comes back. The convention is in the README ("Documentation
 * tests") and in test/support/docExamples.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { createLogger } from '../../src/log/createLogger';
import { SecretRegistry } from '../../src/log/SecretRegistry';
import { seedDevelopmentData } from '../../src/seed/seedDevelopmentData';
import { probeExitCode, runCommand, runTool } from '../support/cliTools';
import { DOC_ADDRESS, readDocExamples, type DocCommand } from '../support/docExamples';
import { jsonDifferences, textDifferences, valueAt, type Captured } from '../support/docMatch';
import { describeWithTools, toolCommand } from '../support/systemTools';
import { useHarness } from '../support/harness';
import type { TestService } from '../support/testService';
import { waitFor } from '../support/waitFor';

const DOCS = { 'README.md': join(PROJECT_ROOT, 'README.md'), 'docs/runbook.md': join(PROJECT_ROOT, 'docs', 'runbook.md') };
const examples = Object.entries(DOCS).map(([label, path]) => ({ label, path, ...readDocExamples(path, label) }));
const commands = examples.flatMap((e) => e.commands);

/** grpcurl's names of the gRPC codes (Go's codes.Code), by number: it exits with 64 + the code. */
const CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

const oneLine = (text: string) => text.replace(/\s*\\?\n\s*/g, ' ').slice(0, 140);

describeWithTools(['grpcurl', 'grpc_health_probe'], 'README and runbook examples, run as written', () => {
  let svc: TestService;
  const captured: Captured = new Map();

  const h = useHarness({
    setup: async ({ svc }) => {
      await seedDevelopmentData(svc.service.db, createLogger({ level: 'silent', secrets: new SecretRegistry() }), svc.service.changes);
      await waitFor('readiness SERVING', async () => (await probeExitCode(svc.service.port, 'readiness')) === 0, 20_000);
    },
  });
  beforeAll(() => ({ svc } = h));

  /** The address a doc address stands for: localhost:50051 (or <pod>:50051) the service, localhost:50052 its admin listener. */
  function address(port: string): string {
    if (port === '50051') return `127.0.0.1:${svc.service.port}`;
    // The admin listener (ADMIN_GRPC_PORT) is not wired into the test service yet: see the README's doc-test convention.
    const admin = (svc.service as { adminPort?: number }).adminPort;
    if (admin === undefined) throw new Error('the docs call the admin listener (localhost:50052), but the service under test exposes no adminPort');
    return `127.0.0.1:${admin}`;
  }

  /** The command with the doc addresses mapped and each <placeholder> filled from an earlier response. */
  function asRun(example: DocCommand): string {
    const mapped = example.command.replace(DOC_ADDRESS, (_all, _host: string, port: string) => address(port));
    return mapped.replace(/<[\w-]+>/g, (name) => {
      const value = captured.get(name);
      if (value === undefined)
        throw new Error(
          `${example.where} uses ${name}, which no earlier example captures (add "# → ${name} = <path>" after the command whose response holds it)`,
        );
      return value;
    });
  }

  function run(example: DocCommand) {
    const vars = Object.entries(example.vars).map(([k, v]) => `${k}=${v}`);
    // The commands run as written; only the tools' locations come from PATH or GRPCURL / GRPC_HEALTH_PROBE.
    const script = ['grpcurl() { command "$DOC_GRPCURL" "$@"; }', 'grpc_health_probe() { command "$DOC_PROBE" "$@"; }', ...vars, asRun(example)].join('\n');
    return runCommand('bash', ['-c', script], { env: { DOC_GRPCURL: toolCommand('grpcurl'), DOC_PROBE: toolCommand('grpc_health_probe') } });
  }

  it('finds every grpcurl and grpc_health_probe command of the docs (none is left unchecked)', () => {
    expect(examples.map((e) => [e.label, e.commands.length > 0])).toEqual(Object.keys(DOCS).map((label) => [label, true]));
    for (const e of examples) {
      const covered = new Set([...e.commands, ...e.mentions].map((c) => c.where));
      const lines = readFileSync(e.path, 'utf8').split('\n');
      const uncovered = lines.flatMap((line, i) =>
        /\b(grpcurl|grpc_health_probe) -/.test(line) && !covered.has(`${e.label}:${i + 1}`) ? [`${e.label}:${i + 1}: ${line}`] : [],
      );
      expect(uncovered).toEqual([]);
    }
  });

  for (const example of commands) {
    it(`${example.where}: ${oneLine(example.command)}`, async () => {
      const result = await run(example);
      const expected = example.expected;
      const problems: string[] = [];
      if (expected === undefined) {
        if (result.code !== 0) problems.push(`exited ${result.code} (shown without output, so it must succeed):\n${result.stderr}${result.stdout}`);
      } else if (expected.kind === 'json') {
        if (result.code !== 0) problems.push(`exited ${result.code}:\n${result.stderr}`);
        else problems.push(...jsonDifferences(expected.value, JSON.parse(result.stdout), captured));
      } else if (expected.kind === 'error') {
        const code = CODE_NAMES.indexOf(expected.code);
        if (code < 1) problems.push(`shown Code: ${expected.code} is not a gRPC code name`);
        if (result.code !== 64 + code)
          problems.push(`exited ${result.code}, shown Code: ${expected.code} means exit ${64 + code}:\n${result.stderr}${result.stdout}`);
        const details = [...result.stderr.matchAll(/^\s*\d+\)\s+(\{.*\})\s*$/gm)].map((m) => JSON.parse(m[1]!) as unknown);
        problems.push(
          ...textDifferences(
            [`Code: ${expected.code}`, `Message: ${expected.message}`],
            [/^\s*Code: .*$/m.exec(result.stderr)?.[0].trim() ?? '', /^\s*Message: .*$/m.exec(result.stderr)?.[0].trim() ?? ''],
            captured,
          ),
          ...jsonDifferences(expected.details, details, captured, 'Details'),
        );
      } else {
        if (result.code !== 0) problems.push(`exited ${result.code}:\n${result.stderr}`);
        problems.push(...textDifferences(expected.lines, `${result.stdout}${result.stderr}`.trim().split('\n'), captured));
      }
      for (const { name, path } of example.captures) {
        let value: unknown;
        try {
          value = valueAt(JSON.parse(result.stdout), path);
        } catch {
          value = undefined;
        }
        if ((typeof value === 'string' && value !== '') || typeof value === 'number') captured.set(name, String(value));
        else problems.push(`${name} = ${path}: the response has no such value:\n${result.stdout}`);
      }
      expect({ where: example.where, problems }).toEqual({ where: example.where, problems: [] });
    });
  }

  it('the flags the prose mentions (e.g. `grpcurl -v`) are flags of the tools', async () => {
    const help = { grpcurl: (await runTool('grpcurl', ['-help'])).stderr, grpc_health_probe: (await runTool('grpc_health_probe', ['-help'])).stderr };
    const unknown = examples
      .flatMap((e) => e.mentions)
      .flatMap(({ where, text }) => {
        const [tool, ...words] = text.split(/\s+/) as [keyof typeof help, ...string[]];
        return words.filter((w) => w.startsWith('-') && !help[tool].includes(`  ${w.split('=')[0]}`)).map((flag) => `${where}: ${tool} ${flag}`);
      });
    expect(unknown).toEqual([]);
  });
});
