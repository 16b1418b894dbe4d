import type { LoadContext } from '../loadgen/LoadContext';
import type { OperationFactory } from './Workload';

/**
 * A statement straight through `pg`: unnamed (parse on every call, as slonik
 * and the bare server send it) or named (parsed once per connection).
 */
export const rawQuery =
  (name: string, text: string, values: (context: LoadContext) => unknown[], prepared: boolean): OperationFactory =>
  (context) => {
    const pool = context.pool();
    return () => pool.query(prepared ? { name, text, values: values(context) } : { text, values: values(context) });
  };
