import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time of a frame or a layer, in ms and as a share of the non-idle time. */
export interface Share {
  readonly name: string;
  readonly ms: number;
  readonly percent: number;
}

/**
 * The layer a frame belongs to: a package under node_modules, a folder of
 * the service (src/db, src/grpc…), Node's own internals, or V8's pseudo-frames
 * (garbage collector, program).
 */
export function layerOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1]!;
  const own = /\/dist\/(src|bench)\/([^/]+)/.exec(url);
  if (own !== null) return own[2]!.endsWith('.js') ? own[1]! : `${own[1]}/${own[2]}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[url.startsWith('node:internal') ? 1 : 0] ?? ''}`;
  return url;
}

const isLibraryOrOwn = (layer: string): boolean => !layer.startsWith('node:') && !layer.startsWith('(');

/**
 * Self time by layer, the same with Node internals and native code folded into
 * the nearest calling library or service folder (who caused the work: a
 * socket write made for pg counts as pg), and the top frames by self time.
 * Idle time is left out.
 */
export function summariseCpuProfile(path: string, top = 25): { totalMs: number; layers: Share[]; owners: Share[]; frames: Share[] } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const ownerOf = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame === undefined) break;
      const layer = layerOf(frame.url, frame.functionName);
      if (isLibraryOrOwn(layer)) return layer;
    }
    const frame = byId.get(id)?.callFrame;
    return frame === undefined ? '(unknown)' : layerOf(frame.url, frame.functionName);
  };
  const owners = new Map<string, number>();
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const layers = new Map<string, number>();
  const frames = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of self) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined || frame.functionName === '(idle)') continue;
    total += micros;
    const layer = layerOf(frame.url, frame.functionName);
    layers.set(layer, (layers.get(layer) ?? 0) + micros);
    const owner = ownerOf(id);
    owners.set(owner, (owners.get(owner) ?? 0) + micros);
    const file = frame.url.replace(/^.*\/(node_modules|dist)\//, '').replace(/^file:\/\//, '');
    const name = `${frame.functionName || '(anonymous)'} ${file}${file === '' ? '' : `:${frame.lineNumber + 1}`}`;
    frames.set(name, (frames.get(name) ?? 0) + micros);
  }
  const shares = (map: Map<string, number>): Share[] =>
    [...map.entries()]
      .map(([name, micros]) => ({ name, ms: Math.round(micros / 1000), percent: Math.round((micros / total) * 1000) / 10 }))
      .sort((a, b) => b.ms - a.ms);
  return { totalMs: Math.round(total / 1000), layers: shares(layers), owners: shares(owners), frames: shares(frames).slice(0, top) };
}

export function sharesTable(title: string, shares: readonly Share[]): string {
  return [
    `| ${title} | self ms | share |`,
    '| --- | ---: | ---: |',
    ...shares.map((s) => `| ${s.name.replace(/\|/g, '\\|')} | ${s.ms} | ${s.percent} % |`),
  ].join('\n');
}
