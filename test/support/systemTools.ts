import { spawnSync } from 'node:child_process';
import declared from '../../scripts/system-tools.json';

/** A program some tests need beyond npm, as scripts/system-tools.json declares it. */
interface SystemTool {
  readonly name: string;
  /** Environment key whose value replaces check[0] (e.g. GRPCURL=/opt/bin/grpcurl). */
  readonly env?: string;
  readonly check: readonly string[];
  readonly debian?: readonly string[];
  readonly get?: string;
  readonly usedBy: string;
}

export type ToolName = 'python3-grpc' | 'openssl' | 'promtool' | 'grpcurl' | 'grpc_health_probe' | 'pgbouncer' | 'postgresql-15' | 'redis-server' | 'h2load';

const TOOLS = new Map<string, SystemTool>((declared.tools as SystemTool[]).map((t) => [t.name, t]));

/** With CI=true every tool is required: a test that needs a missing one fails instead of being skipped. */
export const TOOLS_REQUIRED = process.env.CI === 'true';

function declaredTool(name: ToolName): SystemTool {
  const tool = TOOLS.get(name);
  if (tool === undefined) throw new Error(`${name} is not declared in scripts/system-tools.json`);
  return tool;
}

/** The command to run: the tool's env override, else its name, found on PATH. */
export function toolCommand(name: ToolName): string {
  const tool = declaredTool(name);
  return (tool.env === undefined ? undefined : process.env[tool.env]) || tool.check[0]!;
}

/** How to get the tool, for messages. */
export function howToGet(name: ToolName): string {
  const tool = declaredTool(name);
  return tool.debian === undefined ? (tool.get ?? '') : `apt-get install -y ${tool.debian.join(' ')} (npm test's pretest does this as root)`;
}

/** Checked once per run by globalSetup (TEST_MISSING_TOOLS), or here on first use. */
function missingTools(): Set<string> {
  if (process.env.TEST_MISSING_TOOLS === undefined) {
    process.env.TEST_MISSING_TOOLS = [...TOOLS.values()]
      .filter((t) => {
        const [, ...args] = t.check;
        return spawnSync(toolCommand(t.name as ToolName), args, { stdio: 'ignore', timeout: 30_000 }).status !== 0;
      })
      .map((t) => t.name)
      .join(',');
  }
  return new Set(process.env.TEST_MISSING_TOOLS.split(',').filter((n) => n !== ''));
}

export function toolAvailable(name: ToolName): boolean {
  return !missingTools().has(name);
}

/** One loud line per missing tool, printed once per run (globalTeardown), next to Jest's summary. */
export function missingToolLines(): string[] {
  return [...missingTools()].map((name) => {
    const tool = declaredTool(name as ToolName);
    const what = TOOLS_REQUIRED ? 'REQUIRED in CI, so its tests failed' : 'its tests were SKIPPED';
    return `!!! ${name} not found: ${what}; used by ${tool.usedBy}. Get it: ${howToGet(name as ToolName)}`;
  });
}

/** The tool's command, or an error saying how to get it (a test that needs it then fails with that message). */
export function requireTool(name: ToolName): string {
  if (!toolAvailable(name)) throw new Error(`${name} is needed for this test and was not found. Get it: ${howToGet(name)}`);
  return toolCommand(name);
}

/**
 * `describe` for tests that need the given tools. When one is missing they
 * are skipped (globalTeardown prints one line per tool saying so); with
 * CI=true they run and fail at `requireTool` instead.
 */
export function describeWithTools(tools: readonly ToolName[], title: string, body: () => void): void {
  const runnable = TOOLS_REQUIRED || tools.every(toolAvailable);
  (runnable ? describe : describe.skip)(title, body);
}
