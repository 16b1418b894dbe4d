/**
 * The result parser's shortcut (src/db/plainRowCheck.ts) may only accept a
 * row that zod accepts and returns unchanged: checked here against zod itself
 * on every combination of field values, good and bad, and the schemas it must
 * leave to zod.
 */
import { z } from 'zod';
import { plainRowCheck } from '../src/db/plainRowCheck';

const schema = z.object({
  id: z.string(),
  n: z.number(),
  at: z.number().nullable(),
  status: z.enum(['SCHEDULED', 'COMPLETED']),
  done: z.boolean(),
});

const VALUES: readonly unknown[] = ['a', '', 1, 0, -2.5, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, true, 'SCHEDULED', 'NO_SHOW', 1n, {}, []];
const GOOD = { id: 'a', n: 1, at: null, status: 'SCHEDULED', done: false };

describe('plainRowCheck', () => {
  const check = plainRowCheck(schema)!;

  it('accepts exactly the rows zod returns unchanged, field by field', () => {
    let accepted = 0;
    for (const column of Object.keys(GOOD)) {
      for (const value of VALUES) {
        const row = { ...GOOD, [column]: value };
        const parsed = schema.safeParse(row);
        if (check(row)) {
          accepted += 1;
          expect(parsed.success).toBe(true);
          expect(parsed.data).toEqual(row);
        }
        // Refused by zod: never accepted by the check.
        if (!parsed.success) expect(check(row)).toBe(false);
      }
    }
    expect(accepted).toBeGreaterThan(5);
    expect(check(GOOD)).toBe(true);
  });

  it('leaves rows with missing or extra columns to zod (which refuses or strips them)', () => {
    const missing: Record<string, unknown> = { ...GOOD };
    delete missing.done;
    expect(check(missing)).toBe(false);
    expect(check({ ...GOOD, extra: 1 })).toBe(false);
    expect(check(Object.assign(Object.create({ inherited: 1 }) as object, GOOD) as Record<string, unknown>)).toBe(false);
  });

  it('is undefined for schemas whose fields check, coerce, default or transform', () => {
    expect(plainRowCheck(z.object({ n: z.number().int() }))).toBeUndefined();
    expect(plainRowCheck(z.object({ s: z.string().min(1) }))).toBeUndefined();
    expect(plainRowCheck(z.object({ n: z.coerce.number() }))).toBeUndefined();
    expect(plainRowCheck(z.object({ n: z.number().default(1) }))).toBeUndefined();
    expect(plainRowCheck(z.object({ s: z.string().transform((s) => s.length) }))).toBeUndefined();
    expect(plainRowCheck(z.object({ s: z.string().optional() }))).toBeUndefined();
    expect(plainRowCheck(z.object({ s: z.string() }).refine(() => false))).toBeUndefined();
    expect(plainRowCheck(z.strictObject({ s: z.string() }))).toBeUndefined();
    expect(plainRowCheck(z.looseObject({ s: z.string() }))).toBeUndefined();
    expect(plainRowCheck(z.array(z.string()))).toBeUndefined();
    expect(plainRowCheck(undefined)).toBeUndefined();
  });
});
