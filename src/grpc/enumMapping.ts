/**
 * A two-way mapping between a stored enum (its UPPER_SNAKE text) and its
 * proto enum. `fromProto` returns undefined for *_UNSPECIFIED, UNRECOGNIZED
 * and numbers the contract does not define.
 */
export function enumMapping<Stored extends string, Proto extends number>(toProto: Readonly<Record<Stored, Proto>>) {
  const fromProto = new Map<number, Stored>(Object.entries(toProto).map(([stored, proto]) => [proto as number, stored as Stored]));
  return {
    toProto: (value: Stored): Proto => toProto[value],
    fromProto: (value: Proto): Stored | undefined => fromProto.get(value),
  };
}
