import fc from 'fast-check';
import { ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { INSTANT_RANGE } from '../../../src/domain/instants';

/**
 * Arbitrary requests for any message type, from its descriptor: a tree of
 * field values that {@link encode} writes to the wire. Hostile on purpose:
 * strings from every Unicode plane, lone surrogates (sent as U+FFFD, all
 * UTF-8 can carry) and raw invalid UTF-8 in string fields, NUL and control
 * characters, huge strings, every int32/int64 boundary, out-of-range
 * timestamps and nanos, enum numbers the contract does not define, empty and
 * huge repeated fields. Nothing here names a message or field of this
 * service: a new RPC is fuzzed the day it lands.
 */

/** One field occurrence to write: the field, and its value (a list for repeated fields). */
export type FieldValue = { readonly field: DescField; readonly value: unknown };
/** A message as the fuzzer builds it: field values in wire order. */
export type MessageTree = readonly FieldValue[];
/** A string field's value: text (UTF-16, encoded by the writer) or raw bytes that may not be UTF-8. */
type StringValue = { readonly text: string } | { readonly raw: Uint8Array };
/** A repeated field: a few items, or one item repeated many times (cheap to build, costly to decode). */
type ListValue = { readonly items: readonly unknown[]; readonly repeat: number };

export interface WireArbitraryOptions {
  /** Strings known to mean something to the service (ids of existing rows, etags, names): mixed in to reach deeper code. */
  readonly knownStrings: readonly string[];
  /**
   * Valid-looking values for string fields of a given name (`email`, `timezone`, `*_id`), by naming convention
   * rather than by RPC: mixed in so that whole requests sometimes pass validation and reach the database.
   */
  readonly hints?: (fieldName: string) => fc.Arbitrary<string> | undefined;
  /** Nesting depth beyond which message fields are left out. */
  readonly maxDepth?: number;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const int32 = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(0, 1, -1, 5, 100, 101, 480, 481, 999_999_999, 1_000_000_000, INT32_MAX, INT32_MIN) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 500 }) },
  { weight: 1, arbitrary: fc.integer({ min: INT32_MIN, max: INT32_MAX }) },
);
const int64 = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      0n,
      1n,
      -1n,
      BigInt(INSTANT_RANGE.minSeconds),
      BigInt(INSTANT_RANGE.minSeconds - 1),
      BigInt(INSTANT_RANGE.maxSeconds),
      BigInt(INSTANT_RANGE.maxSeconds + 1),
      2n ** 53n,
      -(2n ** 53n),
      INT64_MAX,
      INT64_MIN,
    ),
  },
  // Seconds of ordinary instants (2030-2036), as a timestamp field usually holds.
  { weight: 1, arbitrary: fc.bigInt({ min: 1_900_000_000n, max: 2_100_000_000n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: INT64_MIN, max: INT64_MAX }) },
);
const uint32 = fc.oneof(fc.constantFrom(0, 1, 2 ** 32 - 1), fc.integer({ min: 0, max: 2 ** 32 - 1 }));
const uint64 = fc.oneof(fc.constantFrom(0n, 1n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));

/** Text that has broken string handling somewhere before: boundaries, controls, long runs, scrubber bait. */
const nastyText = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\t\n\r',
    '\u001b[2J',
    '\u007f',
    '\u0085\u2028\u2029',
    '\ufeff',
    '\uffff',
    '\u{10ffff}',
    '😀',
    `${'A'.repeat(63)}😀`,
    'e\u0301',
    '\u202e',
    'constructor',
    '__proto__',
    'toString',
    '*',
    'Europe/Kyiv',
    'Asia/Kolkata',
    '+05:00',
    '"v1"',
    'a@b.c',
    'postgresql://u:p@h/db',
    'password=x',
  ),
  fc.integer({ min: 1, max: 600_000 }).map((n) => 'a.'.repeat(n)),
  fc.integer({ min: 1, max: 100_000 }).map((n) => '😀'.repeat(n)),
  fc.integer({ min: 60, max: 70 }).map((n) => `${'x'.repeat(n)}😀`),
);

/** Raw bytes in a string field: lone surrogates (CESU-8), overlong NUL, bytes UTF-8 never uses, truncated sequences. */
const invalidUtf8 = fc.oneof(
  fc.constantFrom(
    Uint8Array.of(0xed, 0xa0, 0x80),
    Uint8Array.of(0xed, 0xbf, 0xbf),
    Uint8Array.of(0xc0, 0x80),
    Uint8Array.of(0xff, 0xfe),
    Uint8Array.of(0xf0, 0x9f, 0x98),
    Uint8Array.of(0xf4, 0x90, 0x80, 0x80),
  ),
  fc.uint8Array({ maxLength: 64 }),
);

/** Text a real client would send (names, emails, zone names): so that some cases pass validation and reach the database. */
const plausibleText = fc.oneof(
  fc.constantFrom('Ada Lovelace', 'Grace', 'Feedback basics', 'Europe/Berlin', 'UTC', 'America/Argentina/Buenos_Aires', 'Notes.\nSecond line.'),
  fc.tuple(fc.stringMatching(/^[a-z]{1,12}$/), fc.nat()).map(([name, n]) => `${name}.${n}@example.com`),
  fc.stringMatching(/^[A-Za-z][A-Za-z .'-]{0,40}$/),
);

function stringValue(known: readonly string[]): fc.Arbitrary<StringValue> {
  const text = fc.oneof(
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
    { weight: 2, arbitrary: nastyText },
    { weight: 3, arbitrary: plausibleText },
    ...(known.length > 0 ? [{ weight: 4, arbitrary: fc.constantFrom(...known) }] : []),
  );
  return fc.oneof({ weight: 9, arbitrary: text.map((t) => ({ text: t })) }, { weight: 1, arbitrary: invalidUtf8.map((raw) => ({ raw })) });
}

/** An arbitrary for one value of the field's element type (scalar, enum or message). */
function elementArbitrary(
  kind: 'scalar' | 'enum' | 'message',
  field: DescField,
  options: Required<WireArbitraryOptions>,
  depth: number,
): fc.Arbitrary<unknown> | undefined {
  if (kind === 'enum') {
    const defined = field.enum!.values.map((v) => v.number);
    return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...defined) }, { weight: 1, arbitrary: int32 });
  }
  if (kind === 'message') return depth >= options.maxDepth ? undefined : messageArbitrary(field.message!, options, depth + 1);
  switch (field.scalar!) {
    case ScalarType.STRING: {
      const hint = options.hints(field.name);
      const any = stringValue(options.knownStrings);
      return hint === undefined ? any : fc.oneof({ weight: 3, arbitrary: hint.map((text): StringValue => ({ text })) }, { weight: 2, arbitrary: any });
    }
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 64 });
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return int32;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return uint32;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return int64;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return uint64;
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return fc.double();
  }
}

function fieldArbitrary(field: DescField, options: Required<WireArbitraryOptions>, depth: number): fc.Arbitrary<unknown> | undefined {
  switch (field.fieldKind) {
    case 'scalar':
    case 'enum':
    case 'message':
      return elementArbitrary(field.fieldKind, field, options, depth);
    case 'list': {
      const element = elementArbitrary(field.listKind, field, options, depth);
      if (element === undefined) return undefined;
      const few = fc.array(element, { maxLength: 6 }).map((items): ListValue => ({ items, repeat: 1 }));
      if (field.listKind === 'message') return few;
      // Many copies of one short item (at most a few MB on the wire, around the server's receive limit).
      const short =
        field.listKind === 'enum' || field.scalar !== ScalarType.STRING ? element : fc.string({ unit: 'binary', maxLength: 8 }).map((text) => ({ text }));
      const many = fc.tuple(short, fc.integer({ min: 17, max: 200_000 })).map(([item, repeat]): ListValue => ({ items: [item], repeat }));
      return fc.oneof({ weight: 8, arbitrary: few }, { weight: 1, arbitrary: many });
    }
    case 'map':
      // Maps are repeated entry messages on the wire; no request of this service has one yet.
      return undefined;
  }
}

/** An arbitrary message tree of `message`: each field present or not, in declaration order. */
export function messageArbitrary(message: DescMessage, options: WireArbitraryOptions, depth = 0): fc.Arbitrary<MessageTree> {
  const resolved: Required<WireArbitraryOptions> = { maxDepth: 3, hints: () => undefined, ...options };
  const fields = message.fields.flatMap((field) => {
    const value = fieldArbitrary(field, resolved, depth);
    return value === undefined
      ? []
      : [
          fc.option(
            value.map((v): FieldValue => ({ field, value: v })),
            { freq: 3 },
          ),
        ];
  });
  return fc.tuple(...fields).map((present) => present.filter((entry): entry is FieldValue => entry !== null));
}

function writeElement(writer: BinaryWriter, field: DescField, kind: 'scalar' | 'enum' | 'message', value: unknown): void {
  if (kind === 'enum') return void writer.tag(field.number, WireType.Varint).int32(value as number);
  if (kind === 'message') {
    writer.tag(field.number, WireType.LengthDelimited).fork();
    writeMessage(writer, value as MessageTree);
    return void writer.join();
  }
  switch (field.scalar!) {
    case ScalarType.STRING: {
      const s = value as StringValue;
      writer.tag(field.number, WireType.LengthDelimited);
      return void ('raw' in s ? writer.bytes(s.raw) : writer.string(s.text));
    }
    case ScalarType.BYTES:
      return void writer.tag(field.number, WireType.LengthDelimited).bytes(value as Uint8Array);
    case ScalarType.BOOL:
      return void writer.tag(field.number, WireType.Varint).bool(value as boolean);
    case ScalarType.INT32:
      return void writer.tag(field.number, WireType.Varint).int32(value as number);
    case ScalarType.SINT32:
      return void writer.tag(field.number, WireType.Varint).sint32(value as number);
    case ScalarType.SFIXED32:
      return void writer.tag(field.number, WireType.Bit32).sfixed32(value as number);
    case ScalarType.UINT32:
      return void writer.tag(field.number, WireType.Varint).uint32(value as number);
    case ScalarType.FIXED32:
      return void writer.tag(field.number, WireType.Bit32).fixed32(value as number);
    case ScalarType.INT64:
      return void writer.tag(field.number, WireType.Varint).int64(value as bigint);
    case ScalarType.SINT64:
      return void writer.tag(field.number, WireType.Varint).sint64(value as bigint);
    case ScalarType.SFIXED64:
      return void writer.tag(field.number, WireType.Bit64).sfixed64(value as bigint);
    case ScalarType.UINT64:
      return void writer.tag(field.number, WireType.Varint).uint64(value as bigint);
    case ScalarType.FIXED64:
      return void writer.tag(field.number, WireType.Bit64).fixed64(value as bigint);
    case ScalarType.FLOAT:
      return void writer.tag(field.number, WireType.Bit32).float(value as number);
    case ScalarType.DOUBLE:
      return void writer.tag(field.number, WireType.Bit64).double(value as number);
  }
}

function writeMessage(writer: BinaryWriter, tree: MessageTree): void {
  for (const { field, value } of tree) {
    if (field.fieldKind === 'list') {
      const list = value as ListValue;
      for (let r = 0; r < list.repeat; r++) for (const item of list.items) writeElement(writer, field, field.listKind, item);
    } else if (field.fieldKind !== 'map') {
      writeElement(writer, field, field.fieldKind, value);
    }
  }
}

/** The wire bytes of a message tree (fields unpacked, as any proto3 parser must accept). */
export function encode(tree: MessageTree): Uint8Array {
  const writer = new BinaryWriter();
  writeMessage(writer, tree);
  return writer.finish();
}

/** Raw-bytes fuzzing of the wire format: random bytes, and valid encodings truncated, extended or with a byte flipped. */
export function garbledBytes(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  const mutated = fc
    .tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('truncate', 'flip', 'insert', 'append-tag'))
    .map(([bytes, at, byte, how]) => {
      const i = bytes.length === 0 ? 0 : at % bytes.length;
      if (how === 'truncate') return bytes.slice(0, i);
      if (how === 'flip') return Uint8Array.from(bytes, (b, k) => (k === i ? b ^ (1 << (byte % 8)) : b));
      if (how === 'insert') return Uint8Array.from([...bytes.slice(0, i), byte, ...bytes.slice(i)]);
      // A tag of any field number and wire type (groups, invalid 6/7 included) with nothing after it.
      return Uint8Array.from([...bytes, byte, 0xff]);
    });
  return fc.oneof(fc.uint8Array({ maxLength: 256 }), mutated);
}
