/**
 * The node flags production runs with are written in three places:
 * package.json `config.nodeFlags` (which `npm start` passes on through
 * NODE_OPTIONS, and the bench reads so that it measures what ships), the
 * Dockerfile's CMD, and the Deployment's command (which overrides the CMD).
 * They must agree, and the Node that runs the service must apply them both on
 * the command line and through NODE_OPTIONS (README "Design decisions", memory).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { shippedNodeFlags } from '../bench/servers';
import { PROJECT_ROOT } from '../src/paths';

const read = (...path: string[]): string => readFileSync(join(PROJECT_ROOT, ...path), 'utf8');

/** The runtime stage's CMD (the last one), as an exec-form array. */
function dockerfileCommand(): string[] {
  const commands = [...read('Dockerfile').matchAll(/^CMD (\[.*\])$/gm)];
  if (commands.length === 0) throw new Error('Dockerfile has no exec-form CMD');
  return JSON.parse(commands.at(-1)![1]!) as string[];
}

/** The service container of deploy/kubernetes/deployment.yaml. */
function serviceContainer(): Record<string, any> {
  const docs = parseAllDocuments(read('deploy', 'kubernetes', 'deployment.yaml')).map((d) => d.toJS() as Record<string, any>);
  const deployment = docs.find((d) => d.kind === 'Deployment');
  const container = (deployment?.spec?.template?.spec?.containers as Record<string, any>[] | undefined)?.find((c) => c.name === 'coaching-service');
  if (container === undefined) throw new Error('no coaching-service container in the Deployment');
  return container;
}

const MIB = 1024 * 1024;

describe('node flags of the service', () => {
  const flags = shippedNodeFlags();

  it('are the same in package.json (start script), the Dockerfile CMD and the Deployment command', () => {
    const manifest = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    // Ahead of the caller's own NODE_OPTIONS, so that those still apply (and win where they repeat a flag).
    expect(manifest.scripts.start).toBe('NODE_OPTIONS="$npm_package_config_nodeFlags $NODE_OPTIONS" node dist/src/main.js');
    expect(dockerfileCommand()).toEqual(['node', ...flags, 'dist/src/main.js']);
    expect(serviceContainer().command).toEqual(['node', ...flags, 'dist/src/main.js']);
  });

  it('bound the young generation and the old space in the Node that runs the service', () => {
    const limitMb = (args: readonly string[], nodeOptions = ''): number => {
      const script = `process.stdout.write(String(require('node:v8').getHeapStatistics().heap_size_limit))`;
      const env = { PATH: process.env.PATH ?? '', NODE_OPTIONS: nodeOptions };
      return Number(execFileSync(process.execPath, [...args, '-e', script], { encoding: 'utf8', env })) / MIB;
    };
    const value = (name: string): number => Number(flags.map((f) => new RegExp(`^--${name}=(\\d+)$`).exec(f)?.[1]).find((v) => v !== undefined));
    // V8's heap limit is the old space plus the young generation (three semi-spaces).
    const expected = value('max-old-space-size') + 3 * value('max-semi-space-size');
    expect(limitMb(flags)).toBe(expected);
    // npm start passes them in NODE_OPTIONS, which refuses some V8 flags (node exits) and must apply these.
    expect(limitMb([], flags.join(' '))).toBe(expected);
    // Well under the container's memory limit, leaving room for code, stacks and Buffers outside the heap,
    // so that V8 collects hard and then fails with a heap report before the kernel kills the pod.
    const limit = /^(\d+)Mi$/.exec(String(serviceContainer().resources.limits.memory));
    expect(limit).not.toBeNull();
    expect(expected).toBeLessThanOrEqual(Number(limit![1]) * 0.6);
    // And smaller than what this machine's defaults give, or the flags changed nothing.
    expect(expected).toBeLessThan(limitMb([]));
  });
});
