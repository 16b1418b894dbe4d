import { boundedText, TEXT_LIMITS } from '../domain/boundedText';

/** Deeper than this, a logged value is replaced by a marker. */
const MAX_DEPTH = 6;
/** Arrays keep this many items (and say how many more there were). */
const MAX_ITEMS = 100;

/** What a censored value is written as. */
export const CENSOR = '[redacted]';
/**
 * Keys whose values never reach a log line, at any depth. pino's `redact`
 * paths (`password`, `*.password`, `config.db.password`, `connectionString`,
 * `*.connectionString`) did this for the top levels only, with a second walk
 * of every line that cost about 4 µs, more than the rest of the line.
 */
const CENSORED: ReadonlySet<string> = new Set(['password', 'connectionString']);

const isPlainObject = (value: object): value is Record<string, unknown> => {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

/** An object of some class (an Error, say) with a censored key of its own: a copy of the same class with those keys censored. */
function censoredInstance(value: object): object {
  let descriptors: Record<string, PropertyDescriptor> | undefined;
  for (const key of CENSORED) {
    if (!Object.hasOwn(value, key)) continue;
    descriptors ??= Object.getOwnPropertyDescriptors(value);
    descriptors[key] = { value: CENSOR, enumerable: true, writable: true, configurable: true };
  }
  if (descriptors === undefined) return value;
  // Accessors (V8's Error `stack`) read internal state of the original: copy their values.
  for (const [key, descriptor] of Object.entries(descriptors)) {
    if (descriptor.get !== undefined)
      descriptors[key] = { value: Reflect.get(value, key) as unknown, enumerable: descriptor.enumerable ?? false, writable: true, configurable: true };
  }
  return Object.create(Object.getPrototypeOf(value) as object | null, descriptors) as object;
}

/** One string as a log field may hold it: well-formed and at most TEXT_LIMITS.logField bytes. */
export function boundLogString(value: string): string {
  // Three bytes per code unit at most: most strings need no counting, only the well-formedness check.
  return value.length * 3 <= TEXT_LIMITS.logField && value.isWellFormed() ? value : boundedText(value, TEXT_LIMITS.logField);
}

function bound(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return boundLogString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => bound(item, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`[${value.length - MAX_ITEMS} more]`);
    return items.every((item, i) => item === value[i]) && items.length === value.length ? value : items;
  }
  if (!isPlainObject(value)) return censoredInstance(value);
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const before = value[key];
    const after = CENSORED.has(key) && before !== undefined ? CENSOR : bound(before, depth + 1);
    if (after !== before) {
      copy ??= { ...value };
      copy[key] = after;
    }
  }
  return copy ?? value;
}

/**
 * The fields of a log call with every string made well-formed and capped,
 * arrays and nesting bounded, so that no request value can make a line huge
 * (and its scrubbing slow), and the values of secret keys censored. Copies
 * only what it changes: the common line costs a walk over a few short fields.
 */
export function boundLogFields<T extends object>(fields: T): T {
  return bound(fields, 0) as T;
}
