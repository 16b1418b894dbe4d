import { spawnSync } from 'node:child_process';

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
 * Runs `promtool check metrics` (Debian package prometheus) on exposition
 * text. CI installs promtool and must run it; elsewhere a missing promtool
 * is reported as 'unavailable' so that `npm test` works without it.
 */
export function promtoolCheckMetrics(text: string): { result: 'ok' | 'unavailable' | 'failed'; output: string } {
  const run = spawnSync(process.env.PROMTOOL ?? 'promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error !== undefined) {
    if (process.env.CI === 'true') throw new Error(`promtool is required in CI: ${run.error.message}`);
    return { result: 'unavailable', output: run.error.message };
  }
  return { result: run.status === 0 ? 'ok' : 'failed', output: `${run.stdout}${run.stderr}` };
}

/** Fails with promtool's own findings when it rejects the text. */
export function expectPromtoolAccepts(text: string): void {
  const { result, output } = promtoolCheckMetrics(text);
  if (result === 'failed') throw new Error(`promtool check metrics rejected the exposition:\n${output}`);
}
