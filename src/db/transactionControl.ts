/** Statement texts that open or close a transaction (slonik sends `START TRANSACTION`, `COMMIT`, `ROLLBACK`). */
export const TRANSACTION_START = /^\s*(start\s+transaction|begin)\b/i;
export const TRANSACTION_END = /^\s*(commit|rollback|end|abort)\b(?!\s+to\b)/i;

/**
 * Follows whether a connection is inside a transaction, from the statements
 * sent on it: `sent(text)` before a statement goes out, `succeeded(text)` once
 * it has (a START TRANSACTION that failed opened nothing).
 */
export function createTransactionTracker(): { readonly open: () => boolean; sent(text: string): void; succeeded(text: string): void } {
  let open = false;
  return {
    open: () => open,
    sent(text) {
      if (open && TRANSACTION_END.test(text)) open = false;
    },
    succeeded(text) {
      if (!open && TRANSACTION_START.test(text)) open = true;
    },
  };
}
