import { ValidationError } from '../src/domain/errors';
import { DataSourceContext } from '../src/db/endpoints/DataSourceContext';
import { dataSourceScope, requirePrimaryOf } from '../src/db/endpoints/dataSourceScope';

// Pure logic: the x-require-primary header as the RPC wrapper hands it over (gRPC metadata values).
const metadata = (...values: string[]) => ({ get: (key: string) => (key === 'x-require-primary' ? values : []) });

describe('x-require-primary', () => {
  it('reads absent as false, and true or false in any case', () => {
    expect(requirePrimaryOf([])).toBe(false);
    expect(requirePrimaryOf(['true'])).toBe(true);
    expect(requirePrimaryOf([' TRUE '])).toBe(true);
    expect(requirePrimaryOf(['False'])).toBe(false);
    expect(requirePrimaryOf(['true', 'true'])).toBe(true);
  });

  it('refuses any other value instead of reading a standby silently', () => {
    for (const values of [['1'], ['yes'], ['maybe'], [''], ['true', 'false']]) expect(requirePrimaryOf(values)).toBeUndefined();
  });

  it('fails the call with INVALID_ARGUMENT naming the header, inside its promise, and runs nothing', async () => {
    const context = new DataSourceContext();
    const scope = dataSourceScope(context);
    let ran = false;
    const refused = scope.open(metadata('maybe')).run(() => {
      ran = true;
      return Promise.resolve(1);
    });
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toMatchObject({ violations: [{ field: 'x-require-primary' }] });
    expect(ran).toBe(false);
  });

  it('carries the caller’s choice to the read router', async () => {
    const context = new DataSourceContext();
    const scope = dataSourceScope(context);
    await expect(scope.open(metadata('TRUE')).run(() => Promise.resolve(context.current()?.requirePrimary))).resolves.toBe(true);
    await expect(scope.open(metadata()).run(() => Promise.resolve(context.current()?.requirePrimary))).resolves.toBe(false);
  });
});
