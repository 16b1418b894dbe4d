/**
 * Compares what the docs show with what a command printed. A string written
 * `<name>` in the shown output matches any value; the first match captures
 * it, later ones must equal it. `…` matches any value and captures nothing.
 * Everything else must be equal, and objects must have exactly the keys shown.
 */
const PLACEHOLDER = /^<[\w-]+>$/;
const ANYTHING = '…';

export type Captured = Map<string, string>;

/** Differences between the shown value and the actual one, as `path: why` lines (empty when they match). */
export function jsonDifferences(shown: unknown, actual: unknown, captured: Captured, path = '$'): string[] {
  if (shown === ANYTHING) return actual === undefined ? [`${path}: missing (shown as …)`] : [];
  if (typeof shown === 'string' && PLACEHOLDER.test(shown)) {
    if (actual === undefined) return [`${path}: missing (shown as ${shown})`];
    const value = typeof actual === 'string' ? actual : JSON.stringify(actual);
    const known = captured.get(shown);
    if (known !== undefined && known !== value) return [`${path}: ${value}, but ${shown} was ${known} earlier`];
    captured.set(shown, value);
    return [];
  }
  if (Array.isArray(shown)) {
    if (!Array.isArray(actual)) return [`${path}: shown a list, got ${JSON.stringify(actual)}`];
    if (shown.length !== actual.length) return [`${path}: shown ${shown.length} items, got ${actual.length}: ${JSON.stringify(actual)}`];
    return shown.flatMap((item, i) => jsonDifferences(item, actual[i], captured, `${path}[${i}]`));
  }
  if (shown !== null && typeof shown === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${path}: shown an object, got ${JSON.stringify(actual)}`];
    const a = actual as Record<string, unknown>;
    const s = shown as Record<string, unknown>;
    const extra = Object.keys(a).filter((k) => !(k in s));
    return [
      ...extra.map((k) => `${path}.${k}: not shown, got ${JSON.stringify(a[k])}`),
      ...Object.keys(s).flatMap((k) => (k in a ? jsonDifferences(s[k], a[k], captured, `${path}.${k}`) : [`${path}.${k}: shown, but missing`])),
    ];
  }
  return shown === actual ? [] : [`${path}: shown ${JSON.stringify(shown)}, got ${JSON.stringify(actual)}`];
}

/** Line-by-line comparison of plain output; `<name>` inside a shown line matches any text (captured as above). */
export function textDifferences(shown: readonly string[], actual: readonly string[], captured: Captured): string[] {
  if (shown.length !== actual.length) return [`shown ${shown.length} lines, got ${actual.length}:\n${actual.join('\n')}`];
  return shown.flatMap((line, i) => {
    const names = line.match(/<[\w-]+>/g) ?? [];
    const escaped = line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`^${escaped.replace(/<[\w-]+>/g, '(.+)').replace(/…/g, '.+')}$`);
    const match = pattern.exec(actual[i]!);
    if (match === null) return [`line ${i + 1}: shown ${JSON.stringify(line)}, got ${JSON.stringify(actual[i])}`];
    return names.flatMap((name, n) => jsonDifferences(name, match[n + 1], captured, `line ${i + 1} ${name}`));
  });
}

/** The value at a dotted path (`profile.id`, `profiles.0.id`) of a JSON response. */
export function valueAt(json: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), json);
}
