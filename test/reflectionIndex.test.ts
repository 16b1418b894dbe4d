/** Unit test of the reflection index (pure logic): extensions, which the service's own protos do not use. */
import { create, toBinary } from '@bufbuild/protobuf';
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { DescriptorIndex } from '../src/grpc/reflection/DescriptorIndex';

const file = (init: Parameters<typeof create<typeof FileDescriptorProtoSchema>>[1]) =>
  Buffer.from(toBinary(FileDescriptorProtoSchema, create(FileDescriptorProtoSchema, init)));
const optionalInt = { label: FieldDescriptorProto_Label.OPTIONAL, type: FieldDescriptorProto_Type.INT32 };

const base = file({
  name: 'demo/base.proto',
  package: 'demo',
  syntax: 'proto2',
  messageType: [{ name: 'Extendable', extensionRange: [{ start: 100, end: 200 }], nestedType: [{ name: 'Inner' }] }, { name: 'Plain' }],
});
const extending = file({
  name: 'demo/ext.proto',
  package: 'demo.more',
  syntax: 'proto2',
  dependency: ['demo/base.proto'],
  extension: [{ name: 'top', number: 150, extendee: '.demo.Extendable', ...optionalInt }],
  messageType: [{ name: 'Holder', extension: [{ name: 'nested', number: 101, extendee: '.demo.Extendable', ...optionalInt }] }],
});

describe('DescriptorIndex', () => {
  const index = new DescriptorIndex([base, extending]);

  it('lists the extension numbers of a message, from every file that extends it, sorted', () => {
    expect(index.extensionNumbers('demo.Extendable')).toEqual([101, 150]);
    expect(index.fileOfExtension('demo.Extendable', 150)).toBe('demo/ext.proto');
    expect(index.fileOfExtension('demo.Extendable', 101)).toBe('demo/ext.proto');
    expect(index.fileOfExtension('demo.Extendable', 102)).toBeUndefined();
  });

  it('gives an empty list for known messages without extensions and nothing for unknown names', () => {
    expect(index.extensionNumbers('demo.Plain')).toEqual([]);
    expect(index.extensionNumbers('demo.Extendable.Inner')).toEqual([]);
    expect(index.extensionNumbers('demo.more.Holder')).toEqual([]);
    expect(index.extensionNumbers('demo.Missing')).toBeUndefined();
    expect(index.extensionNumbers('.demo.Plain')).toBeUndefined();
  });

  it('finds extensions as symbols and returns a file with its imports, first the file itself', () => {
    expect(index.fileOfSymbol('demo.more.top')).toBe('demo/ext.proto');
    expect(index.fileOfSymbol('demo.more.Holder.nested')).toBe('demo/ext.proto');
    expect(index.fileWithDependencies('demo/ext.proto')).toEqual([extending, base]);
    expect(index.fileWithDependencies('demo/none.proto')).toBeUndefined();
  });
});
