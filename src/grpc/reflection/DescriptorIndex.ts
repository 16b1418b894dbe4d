import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, type DescriptorProto, type EnumDescriptorProto, type FieldDescriptorProto } from '@bufbuild/protobuf/wkt';

/** One file of the descriptor set: its name, imports and the exact bytes `buf build` wrote. */
interface IndexedFile {
  readonly name: string;
  readonly dependencies: readonly string[];
  readonly bytes: Buffer;
}

/**
 * What server reflection looks up, built once from the serialized
 * FileDescriptorProtos: the file of every fully qualified symbol (messages,
 * fields, oneofs, enums and their values, services and their methods,
 * extensions), every message's extension numbers, and each file's imports.
 * Files are served as the bytes they came in, never re-encoded.
 */
export class DescriptorIndex {
  private readonly files = new Map<string, IndexedFile>();
  private readonly symbols = new Map<string, IndexedFile>();
  /** Message name → extension number → file defining that extension. An entry exists for every known message. */
  private readonly extensions = new Map<string, Map<number, IndexedFile>>();
  /** Every service the files define, in file order. */
  readonly services: string[] = [];

  constructor(fileDescriptorProtos: readonly Buffer[]) {
    const pendingExtensions: Array<{ extendee: string; number: number; file: IndexedFile }> = [];
    for (const bytes of fileDescriptorProtos) {
      const proto = fromBinary(FileDescriptorProtoSchema, bytes);
      if (this.files.has(proto.name)) continue;
      const file: IndexedFile = { name: proto.name, dependencies: proto.dependency, bytes };
      this.files.set(file.name, file);
      const scope = proto.package === '' ? '' : `${proto.package}.`;
      const add = (name: string): void => void this.symbols.set(name, file);
      const addExtensions = (prefix: string, fields: readonly FieldDescriptorProto[]): void => {
        for (const ext of fields) {
          add(`${prefix}${ext.name}`);
          pendingExtensions.push({ extendee: ext.extendee.replace(/^\./, ''), number: ext.number, file });
        }
      };
      // Enum values are scoped like siblings of their enum (protobuf's C++ scoping rules).
      const addEnum = (prefix: string, e: EnumDescriptorProto): void => {
        add(`${prefix}${e.name}`);
        for (const value of e.value) add(`${prefix}${value.name}`);
      };
      const addMessage = (prefix: string, m: DescriptorProto): void => {
        const name = `${prefix}${m.name}`;
        add(name);
        this.extensions.set(name, this.extensions.get(name) ?? new Map<number, IndexedFile>());
        for (const field of m.field) add(`${name}.${field.name}`);
        for (const oneof of m.oneofDecl) add(`${name}.${oneof.name}`);
        for (const nested of m.nestedType) addMessage(`${name}.`, nested);
        for (const e of m.enumType) addEnum(`${name}.`, e);
        addExtensions(`${name}.`, m.extension);
      };
      for (const m of proto.messageType) addMessage(scope, m);
      for (const e of proto.enumType) addEnum(scope, e);
      addExtensions(scope, proto.extension);
      for (const service of proto.service) {
        const name = `${scope}${service.name}`;
        add(name);
        this.services.push(name);
        for (const method of service.method) add(`${name}.${method.name}`);
      }
    }
    for (const { extendee, number, file } of pendingExtensions) this.extensions.get(extendee)?.set(number, file);
  }

  /** The file and everything it imports, directly or not (the file first), or undefined for an unknown name. */
  fileWithDependencies(name: string): Buffer[] | undefined {
    const first = this.files.get(name);
    if (first === undefined) return undefined;
    const seen = new Set<string>();
    const out: Buffer[] = [];
    const visit = (file: IndexedFile): void => {
      if (seen.has(file.name)) return;
      seen.add(file.name);
      out.push(file.bytes);
      for (const dep of file.dependencies) {
        const imported = this.files.get(dep);
        if (imported !== undefined) visit(imported);
      }
    };
    visit(first);
    return out;
  }

  /** Name of the file that defines a fully qualified symbol. */
  fileOfSymbol(symbol: string): string | undefined {
    return this.symbols.get(symbol)?.name;
  }

  /** Name of the file that defines extension `number` of message `extendee`. */
  fileOfExtension(extendee: string, number: number): string | undefined {
    return this.extensions.get(extendee)?.get(number)?.name;
  }

  /** Extension numbers of a known message (empty when it has none), or undefined for an unknown name. */
  extensionNumbers(message: string): number[] | undefined {
    const numbers = this.extensions.get(message);
    return numbers === undefined ? undefined : [...numbers.keys()].sort((a, b) => a - b);
  }
}
