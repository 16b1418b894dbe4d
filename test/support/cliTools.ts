import { spawn } from 'node:child_process';
import { requireTool, type ToolName } from './systemTools';

/** What a command-line client printed and how it exited. */
export interface ToolRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a system tool (found on PATH, or through its env override) without
 * blocking: the service under test usually lives in this process, so a
 * synchronous spawn would starve it. Killed after `timeoutMs`.
 */
export function runTool(tool: ToolName, args: readonly string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ToolRun> {
  const command = requireTool(tool);
  return runCommand(command, args, options);
}

/** Runs any program the same way (bash for the doc test). */
export function runCommand(command: string, args: readonly string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    // no_proxy: Go's HTTP/2 clients honour http(s)_proxy, which must not capture loopback calls.
    const child = spawn(command, args, { env: { ...process.env, no_proxy: '127.0.0.1,localhost', NO_PROXY: '127.0.0.1,localhost', ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `grpc_health_probe -addr=127.0.0.1:<port> -service=<name>`: 0 SERVING, 4 NOT_SERVING, 3 unknown service, 2 no connection. */
export async function probeExitCode(port: number, service: string): Promise<number | null> {
  return (await runTool('grpc_health_probe', [`-addr=127.0.0.1:${port}`, `-service=${service}`, '-connect-timeout=2s', '-rpc-timeout=2s'])).code;
}

/** grpcurl's plaintext call of one method with a JSON body; stdout holds the response, stderr an error with its details. */
export function grpcurl(port: number, method: string, body: unknown, flags: readonly string[] = []): Promise<ToolRun> {
  return runTool('grpcurl', ['-plaintext', ...flags, '-d', JSON.stringify(body), `127.0.0.1:${port}`, method]);
}

/** The status and the decoded details grpcurl prints for a failed call (the "ERROR:" block on stderr). */
export function grpcurlError(run: ToolRun): { code: string; message: string; details: unknown[] } {
  const code = /^\s*Code: (.*)$/m.exec(run.stderr)?.[1] ?? '';
  const message = /^\s*Message: (.*)$/m.exec(run.stderr)?.[1] ?? '';
  const details = [...run.stderr.matchAll(/^\s*\d+\)\s+(\{.*\})\s*$/gm)].map((m) => JSON.parse(m[1]!) as unknown);
  return { code, message, details };
}
