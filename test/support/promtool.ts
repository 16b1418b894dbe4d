import { spawnSync } from 'node:child_process';
import { howToGet, requireTool, toolAvailable, TOOLS_REQUIRED } from './systemTools';

/** The scraped text of a running service's /metrics endpoint. */
export async function scrape(port: number): Promise<{ status: number; contentType: string; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

/** The value of one sample, e.g. sample(text, 'coaching_health_ready'), or undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/**
 * Runs `promtool check metrics` (Debian package prometheus, see
 * scripts/system-tools.json) on exposition text. Provisioning installs it and
 * CI requires it; where it cannot be had the check is skipped, and
 * globalTeardown says so in one line.
 */
export function promtoolCheckMetrics(text: string): { result: 'ok' | 'unavailable' | 'failed'; output: string } {
  if (!TOOLS_REQUIRED && !toolAvailable('promtool')) return { result: 'unavailable', output: howToGet('promtool') };
  const run = spawnSync(requireTool('promtool'), ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error !== undefined) throw new Error(`promtool could not run: ${run.error.message}`);
  return { result: run.status === 0 ? 'ok' : 'failed', output: `${run.stdout}${run.stderr}` };
}

/** Fails with promtool's own findings when it rejects the text. */
export function expectPromtoolAccepts(text: string): void {
  const { result, output } = promtoolCheckMetrics(text);
  if (result === 'failed') throw new Error(`promtool check metrics rejected the exposition:\n${output}`);
}
