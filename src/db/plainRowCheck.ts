/** True when the row is exactly what the schema accepts unchanged. */
export type PlainRowCheck = (row: Readonly<Record<string, unknown>>) => boolean;

type ValueCheck = (value: unknown) => boolean;

/** The parts of a zod 4 schema's definition this module reads (`schema._zod.def`). */
interface ZodDef {
  readonly type?: string;
  readonly checks?: readonly unknown[];
  readonly coerce?: boolean;
  readonly shape?: Readonly<Record<string, { readonly _zod?: { readonly def?: ZodDef } }>>;
  readonly catchall?: unknown;
  readonly entries?: Readonly<Record<string, unknown>>;
  readonly innerType?: { readonly _zod?: { readonly def?: ZodDef } };
}

const defOf = (schema: unknown): ZodDef | undefined => (schema as { _zod?: { def?: ZodDef } } | null | undefined)?._zod?.def;

/** A check for a field schema that only tests the value's type (no checks, coercion, defaults or transforms), else undefined. */
function valueCheck(def: ZodDef | undefined): ValueCheck | undefined {
  if (def === undefined || (def.checks?.length ?? 0) > 0 || def.coerce === true) return undefined;
  switch (def.type) {
    case 'string':
      return (value) => typeof value === 'string';
    // zod 4's number refuses NaN and ±Infinity.
    case 'number':
      return (value) => typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return (value) => typeof value === 'boolean';
    case 'enum': {
      const values = Object.values(def.entries ?? {});
      if (!values.every((value) => typeof value === 'string')) return undefined;
      const allowed = new Set<unknown>(values);
      return (value) => allowed.has(value);
    }
    case 'nullable': {
      const inner = valueCheck(defOf(def.innerType));
      return inner === undefined ? undefined : (value) => value === null || inner(value);
    }
    default:
      return undefined;
  }
}

/**
 * For a zod object of plain fields (string, finite number, boolean, string
 * enum, nullable of those; no checks, refinements or transforms), a check
 * that accepts a row only when zod would return it unchanged: exactly the
 * shape's columns, each of its type. Undefined for any other schema.
 *
 * Why: zod's parse of a 12-column row allocates about 1 KB (a payload and an
 * issue list per field, a copy of the row), the service's largest allocation
 * per ListSessions row; the garbage collector was 15–19 % of the call's CPU.
 * A row the check accepts needs no copy; any other row still goes to zod,
 * which refuses it with its issues (or strips columns the shape lacks).
 */
export function plainRowCheck(schema: unknown): PlainRowCheck | undefined {
  const def = defOf(schema);
  if (def?.type !== 'object' || def.shape === undefined || def.catchall !== undefined || (def.checks?.length ?? 0) > 0) return undefined;
  const columns: string[] = [];
  const checks: ValueCheck[] = [];
  for (const [column, field] of Object.entries(def.shape)) {
    const check = valueCheck(defOf(field));
    if (check === undefined) return undefined;
    columns.push(column);
    checks.push(check);
  }
  const count = columns.length;
  return (row) => {
    // Exactly the shape's columns: a row with more goes to zod, which strips them.
    let seen = 0;
    for (const key in row) if (!Object.hasOwn(row, key) || ++seen > count) return false;
    if (seen !== count) return false;
    for (let i = 0; i < count; i++) {
      const column = columns[i]!;
      if (!Object.hasOwn(row, column) || !checks[i]!(row[column])) return false;
    }
    return true;
  };
}
