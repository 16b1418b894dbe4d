/**
 * The folder layering (.dependency-cruiser.cjs, run by `npm run lint`) must
 * be able to fail: a copy of src/ passes, and the same copy with one new
 * import that closes a folder cycle, reaches into the composition root or
 * calls too many layers down fails with the rule that says so.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../src/paths';

const run = promisify(execFile);
let copy: string;

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'layering-'));
  for (const entry of ['src', 'tsconfig.json', '.dependency-cruiser.cjs']) cpSync(join(PROJECT_ROOT, entry), join(copy, entry), { recursive: true });
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(copy, 'node_modules'));
});
afterAll(() => rmSync(copy, { recursive: true, force: true }));

/** The rules violated in the copy, as `rule: from → to`. */
async function violations(): Promise<string[]> {
  const depcruise = join(PROJECT_ROOT, 'node_modules', '.bin', 'depcruise');
  const { stdout } = await run(depcruise, ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], { cwd: copy, maxBuffer: 64 << 20 }).catch(
    (error: { stdout: string }) => ({ stdout: error.stdout }),
  );
  const result = JSON.parse(stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

/** Adds one file to the copy for the duration of `check`. */
async function withFile(path: string, text: string, check: (found: string[]) => void): Promise<void> {
  writeFileSync(join(copy, path), text);
  try {
    check(await violations());
  } finally {
    rmSync(join(copy, path));
  }
}

it('passes on src/ as it is', async () => {
  expect(await violations()).toEqual([]);
});

it('fails on a new folder-level cycle (health importing metrics, which implements its sink)', async () => {
  await withFile(
    'src/health/metricsBack.ts',
    "import type { ServiceMetrics } from '../metrics/createServiceMetrics';\nexport type Back = ServiceMetrics;\n",
    (found) => {
      expect(found).toContain('no-folder-cycle: src/health → src/metrics');
      expect(found).toContain('layer-health: src/health/metricsBack.ts → src/metrics/createServiceMetrics.ts');
    },
  );
});

it('fails when a module outside the root imports the composition root', async () => {
  await withFile('src/grpc/rootBack.ts', "import { startService } from '../app';\nexport const back = startService;\n", (found) => {
    expect(found).toEqual(['only-root-imports-root: src/grpc/rootBack.ts → src/app.ts']);
  });
});

it('fails when a module calls more than two layers down (a type-only import may)', async () => {
  const source =
    "import { databaseFailureCode } from '../db/failureCode';\nimport type { PoolSnapshot } from '../db/poolInstrumentation';\nexport const code = databaseFailureCode;\nexport type Snapshot = PoolSnapshot;\n";
  await withFile('src/metrics/reach.ts', source, (found) => {
    expect(found).toEqual(['reach-metrics: src/metrics/reach.ts → src/db/failureCode.ts']);
  });
});

it('fails on a folder that has no layer', async () => {
  mkdirSync(join(copy, 'src', 'newfolder'));
  try {
    await withFile('src/newfolder/thing.ts', "import { DomainError } from '../domain/errors';\nexport const thing = DomainError;\n", (found) => {
      expect(found).toEqual(['folders-are-known: src/newfolder/thing.ts → src/domain/errors.ts']);
    });
  } finally {
    rmSync(join(copy, 'src', 'newfolder'), { recursive: true });
  }
});

it('README "Layout" lists every folder of src/', () => {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const layout = readme.slice(readme.indexOf('## Layout'), readme.indexOf('### What may import what'));
  const folders = readdirSync(join(PROJECT_ROOT, 'src'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `src/${entry.name}/`);
  expect(folders.filter((folder) => !layout.includes(`\`${folder}\``))).toEqual([]);
});
