/** Any string made well-formed and capped before a peer or a log reader sees it: README "Design decisions", "Every string that leaves the process is well-formed and capped". */

/** Caps in UTF-8 bytes (what headers and log lines are measured in). */
export const TEXT_LIMITS = {
  /** A gRPC status message (the grpc-message trailer and google.rpc.Status.message). */
  statusMessage: 1024,
  /** One BadRequest field violation description, or one ErrorInfo metadata value. */
  detail: 256,
  /** A value echoed inside a message ("got ..."). */
  echo: 64,
  /** One string field of a log line. */
  logField: 4096,
  /** A metric label value. */
  metricLabel: 128,
} as const;

const ELLIPSIS = '…';
const ELLIPSIS_BYTES = 3;

/** UTF-8 length of one code point. */
function utf8Bytes(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

/**
 * `value` made well-formed (each lone surrogate becomes U+FFFD) and, when its
 * UTF-8 encoding is longer than `maxBytes`, cut at a code point boundary with
 * an ellipsis so that the result is at most `maxBytes` bytes. Costs O(maxBytes),
 * not O(value.length): a 4 MiB string is only looked at up to the cap.
 * `maxBytes` must leave room for the ellipsis (at least 4).
 */
export function boundedText(value: string, maxBytes: number): string {
  // Every UTF-16 code unit is at least one UTF-8 byte, so a string of more
  // units than the cap is cut anyway: look only at its head (plus one unit, so
  // a surrogate pair at the edge stays whole and "too long" is still seen).
  const head = value.length > maxBytes ? value.slice(0, maxBytes + 1) : value;
  const text = head.isWellFormed() ? head : head.toWellFormed();
  // At most 3 bytes per code unit: short strings need no counting.
  if (text.length * 3 <= maxBytes) return text;
  let bytes = 0;
  let keep = 0; // code units of the longest prefix that leaves room for the ellipsis
  for (let i = 0; i < text.length;) {
    const codePoint = text.codePointAt(i)!;
    const units = codePoint > 0xffff ? 2 : 1;
    bytes += utf8Bytes(codePoint);
    if (bytes + ELLIPSIS_BYTES <= maxBytes) keep = i + units;
    i += units;
    if (bytes > maxBytes) return text.slice(0, keep) + ELLIPSIS;
  }
  // Only reached when nothing was cut off: a longer value's head always exceeds the cap.
  return text;
}
