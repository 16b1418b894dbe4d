/**
 * Reads the grpcurl and grpc_health_probe examples out of Markdown, following
 * the convention the README's "Documentation tests" section describes:
 *
 * - a command in a ```sh block is run and must succeed; a trailing
 *   `# → <name> = path` comment names a value of its JSON response that later
 *   commands write as `<name>`;
 * - a ```text block that starts with `$ <command>` shows the command and what
 *   it prints (a JSON response, grpcurl's ERROR block, or plain lines); `<name>`
 *   in the shown output matches any value and captures it;
 * - `NAME=value` lines in a sh block set shell variables for the commands after them;
 * - an inline `grpcurl …`/`grpc_health_probe …` span with an address is run too;
 *   one without an address is a mention (its flags must exist).
 */
import { readFileSync } from 'node:fs';

export interface Capture {
  readonly name: string;
  readonly path: string;
}

export type Expected =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'error'; readonly code: string; readonly message: string; readonly details: unknown[] }
  | { readonly kind: 'text'; readonly lines: string[] };

export interface DocCommand {
  /** `README.md:119`, where the command starts. */
  readonly where: string;
  /** The command as written, continuation lines included, without a trailing comment. */
  readonly command: string;
  readonly captures: readonly Capture[];
  readonly expected?: Expected;
  /** Shell variables in effect (set earlier in the document). */
  readonly vars: Readonly<Record<string, string>>;
}

export interface DocExamples {
  readonly commands: DocCommand[];
  /** Inline spans such as `grpcurl -v` that name the tool without being a command. */
  readonly mentions: { where: string; text: string }[];
}

const TOOL = /^(grpcurl|grpc_health_probe)\s/;
const CAPTURE = /→\s*(<[\w-]+>)\s*=\s*([\w.[\]-]+)/g;
/** An address of the service as the docs write it. */
export const DOC_ADDRESS = /(localhost|<pod>):(5005[12])\b/g;

/** Splits a shell line into its code and a trailing comment, honouring quotes; reports whether a quote is left open. */
function scan(line: string, open: '' | "'" | '"'): { code: string; comment: string; open: '' | "'" | '"' } {
  let quote = open;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === '') {
      if (c === "'" || c === '"') quote = c;
      else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return { code: line.slice(0, i).trimEnd(), comment: line.slice(i), open: '' };
    } else if (c === '\\' && quote === '"') i++;
    else if (c === quote) quote = '';
  }
  return { code: line, comment: '', open: quote };
}

/** Reads one command starting at lines[start] (continuations: a trailing backslash or an open quote). */
function readCommand(lines: readonly string[], start: number, first: string): { command: string; comment: string; next: number } {
  const parts: string[] = [];
  let comment = '';
  let open: '' | "'" | '"' = '';
  let i = start;
  for (let line = first; ; line = lines[++i]!) {
    const scanned = scan(line, open);
    parts.push(scanned.code);
    comment = scanned.comment;
    open = scanned.open;
    if (open === '' && !scanned.code.endsWith('\\')) break;
    if (i + 1 >= lines.length) throw new Error(`unterminated command starting at line ${start + 1}`);
  }
  return { command: parts.join('\n'), comment, next: i + 1 };
}

function expectedOutput(lines: string[]): Expected {
  const text = lines.join('\n').trim();
  if (text.startsWith('{')) return { kind: 'json', value: JSON.parse(text) };
  if (text.startsWith('ERROR:')) {
    const field = (name: string) => new RegExp(`^\\s*${name}: (.*)$`, 'm').exec(text)?.[1] ?? '';
    const details = [...text.matchAll(/^\s*\d+\)\s+(\{.*\})\s*$/gm)].map((m) => JSON.parse(m[1]!) as unknown);
    return { kind: 'error', code: field('Code'), message: field('Message'), details };
  }
  return { kind: 'text', lines: text.split('\n') };
}

export function readDocExamples(path: string, label: string): DocExamples {
  const lines = readFileSync(path, 'utf8').split('\n');
  const commands: DocCommand[] = [];
  const mentions: { where: string; text: string }[] = [];
  const vars: Record<string, string> = {};
  const add = (start: number, command: string, comment: string, expected?: Expected) =>
    commands.push({
      where: `${label}:${start + 1}`,
      command,
      captures: [...comment.matchAll(CAPTURE)].map((m) => ({ name: m[1]!, path: m[2]! })),
      expected,
      vars: { ...vars },
    });

  for (let i = 0; i < lines.length;) {
    const fence = /^```(\w*)\s*$/.exec(lines[i]!);
    if (fence === null) {
      for (const span of lines[i]!.matchAll(/`([^`]+)`/g)) {
        const text = span[1]!;
        if (!TOOL.test(text)) continue;
        if (new RegExp(DOC_ADDRESS.source).test(text)) add(i, text, '');
        else mentions.push({ where: `${label}:${i + 1}`, text });
      }
      i++;
      continue;
    }
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    const body = lines.slice(i + 1, end);
    const offset = i + 1;
    if (fence[1] === 'sh') {
      for (let j = 0; j < body.length;) {
        const line = body[j]!;
        const assignment = /^([A-Z_][A-Z0-9_]*)=(\S+)$/.exec(line);
        if (assignment !== null) vars[assignment[1]!] = assignment[2]!;
        if (!TOOL.test(line)) {
          j++;
          continue;
        }
        const read = readCommand(body, j, line);
        add(offset + j, read.command, read.comment);
        j = read.next;
      }
    } else if (fence[1] === 'text' && body[0]?.startsWith('$ ')) {
      const read = readCommand(body, 0, body[0].slice(2));
      add(offset, read.command, read.comment, expectedOutput(body.slice(read.next)));
    }
    i = end + 1;
  }
  return { commands, mentions };
}
