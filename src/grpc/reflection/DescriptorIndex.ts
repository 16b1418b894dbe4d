import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type DescriptorProto, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';

/**
 * The files of a FileDescriptorSet as `buf build` wrote them: original file
 * names, import lists and fully-qualified type names, which is what
 * reflection clients such as grpcurl need to link a schema. (proto-loader's
 * re-emitted descriptors merge the files of a package and drop the imports,
 * so google.protobuf.Timestamp cannot be resolved through them.)
 */
export class DescriptorIndex {
  readonly #files = new Map<string, { proto: FileDescriptorProto; bytes: Uint8Array }>();
  /** Fully-qualified symbol (message, enum, service, method, extension) → file name. */
  readonly #symbols = new Map<string, string>();
  readonly #messages = new Set<string>();
  readonly #services: string[] = [];

  constructor(descriptorSet: Uint8Array) {
    for (const proto of fromBinary(FileDescriptorSetSchema, descriptorSet).file) {
      this.#files.set(proto.name, { proto, bytes: toBinary(FileDescriptorProtoSchema, proto) });
      const prefix = proto.package === '' ? '' : `${proto.package}.`;
      this.#indexMessages(proto.name, prefix, proto.messageType);
      for (const e of proto.enumType) this.#symbols.set(prefix + e.name, proto.name);
      for (const x of proto.extension) this.#symbols.set(prefix + x.name, proto.name);
      for (const service of proto.service) {
        const name = prefix + service.name;
        this.#services.push(name);
        this.#symbols.set(name, proto.name);
        for (const method of service.method) this.#symbols.set(`${name}.${method.name}`, proto.name);
      }
    }
  }

  /** Every service the descriptors define. */
  services(): readonly string[] {
    return this.#services;
  }

  hasMessage(name: string): boolean {
    return this.#messages.has(name);
  }

  /** The encoded file and all it imports, transitively, the file first; undefined when unknown. */
  fileWithImports(fileName: string): Uint8Array[] | undefined {
    if (!this.#files.has(fileName)) return undefined;
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (name: string): void => {
      const file = this.#files.get(name);
      if (file === undefined || seen.has(name)) return;
      seen.add(name);
      out.push(file.bytes);
      for (const dependency of file.proto.dependency) visit(dependency);
    };
    visit(fileName);
    return out;
  }

  /** The file defining a fully-qualified symbol (a leading dot is allowed). */
  fileOfSymbol(symbol: string): string | undefined {
    return this.#symbols.get(symbol.replace(/^\./, ''));
  }

  #indexMessages(file: string, prefix: string, messages: readonly DescriptorProto[]): void {
    for (const message of messages) {
      const name = prefix + message.name;
      this.#symbols.set(name, file);
      this.#messages.add(name);
      for (const e of message.enumType) this.#symbols.set(`${name}.${e.name}`, file);
      for (const x of message.extension) this.#symbols.set(`${name}.${x.name}`, file);
      this.#indexMessages(file, `${name}.`, message.nestedType);
    }
  }
}
