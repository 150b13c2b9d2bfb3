/**
 * A GGUF v3 serializer: metadata key/values and F32 tensors into one Buffer, little-endian.
 *
 * Layout: "GGUF", u32 version, u64 tensor count, u64 metadata count; each metadata entry is a string key, a
 * u32 type and the value (an array is item type + u64 count + items); each tensor info is its name, u32
 * number of dimensions, the u64 dimensions in reversed (ggml) order, u32 ggml type and u64 offset into the
 * data section. The header is padded to the alignment and every tensor starts on it.
 */

/** GGUF value type codes. */
const TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;
const GGML_TYPE_F32 = 0;

/** One metadata value, tagged with its GGUF type. */
export type MetadataValue =
  | { type: 'u32' | 'i32' | 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: readonly string[] }
  | { type: 'i32[]'; value: readonly number[] };

/** Constructors for metadata values: `meta.u32(2)`, `meta.strings(['a'])`. */
export const meta = {
  u32: (value: number): MetadataValue => ({ type: 'u32', value }),
  i32: (value: number): MetadataValue => ({ type: 'i32', value }),
  f32: (value: number): MetadataValue => ({ type: 'f32', value }),
  bool: (value: boolean): MetadataValue => ({ type: 'bool', value }),
  string: (value: string): MetadataValue => ({ type: 'string', value }),
  strings: (value: readonly string[]): MetadataValue => ({ type: 'string[]', value }),
  i32s: (value: readonly number[]): MetadataValue => ({ type: 'i32[]', value }),
};

/** An F32 tensor. `shape` is in row-major (numpy) order, e.g. [rows, cols]; `data` is row-major too. */
export interface Tensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

export interface GgufContents {
  /** Written in this order. */
  metadata: ReadonlyArray<readonly [key: string, value: MetadataValue]>;
  tensors: readonly Tensor[];
  /** Byte alignment of the data section and of each tensor. Default 32 (GGUF's default). */
  alignment?: number;
}

/** Appends little-endian values to a list of chunks. */
class ByteWriter {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  bytes(buffer: Buffer): void {
    this.chunks.push(buffer);
    this.size += buffer.length;
  }

  private fixed(bytes: number, write: (buffer: Buffer) => void): void {
    const buffer = Buffer.alloc(bytes);
    write(buffer);
    this.bytes(buffer);
  }

  u8 = (value: number): void => this.fixed(1, (b) => b.writeUInt8(value));
  u32 = (value: number): void => this.fixed(4, (b) => b.writeUInt32LE(value));
  i32 = (value: number): void => this.fixed(4, (b) => b.writeInt32LE(value));
  f32 = (value: number): void => this.fixed(4, (b) => b.writeFloatLE(value));
  u64 = (value: number): void => this.fixed(8, (b) => b.writeBigUInt64LE(BigInt(value)));

  string = (value: string): void => {
    const utf8 = Buffer.from(value, 'utf8');
    this.u64(utf8.length);
    this.bytes(utf8);
  };

  padTo(alignment: number): void {
    const padding = alignUp(this.size, alignment) - this.size;
    if (padding > 0) this.bytes(Buffer.alloc(padding));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}

function writeValue(out: ByteWriter, value: MetadataValue): void {
  switch (value.type) {
    case 'u32':
      return out.u32(value.value);
    case 'i32':
      return out.i32(value.value);
    case 'f32':
      return out.f32(value.value);
    case 'bool':
      return out.u8(value.value ? 1 : 0);
    case 'string':
      return out.string(value.value);
    case 'string[]':
      out.u32(TYPE.string);
      out.u64(value.value.length);
      return value.value.forEach(out.string);
    case 'i32[]':
      out.u32(TYPE.i32);
      out.u64(value.value.length);
      return value.value.forEach(out.i32);
  }
}

function typeCode(value: MetadataValue): number {
  return value.type.endsWith('[]') ? TYPE.array : TYPE[value.type as keyof typeof TYPE];
}

/** Serializes a complete GGUF v3 file. */
export function serializeGguf({ metadata, tensors, alignment = 32 }: GgufContents): Buffer {
  const header = new ByteWriter();
  header.bytes(Buffer.from('GGUF', 'ascii'));
  header.u32(3);
  header.u64(tensors.length);
  header.u64(metadata.length);
  for (const [key, value] of metadata) {
    header.string(key);
    header.u32(typeCode(value));
    writeValue(header, value);
  }

  const offsets: number[] = [];
  let dataSize = 0;
  for (const tensor of tensors) {
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    if (count !== tensor.data.length) throw new Error(`tensor ${tensor.name}: shape ${tensor.shape} needs ${count} values, has ${tensor.data.length}`);
    header.string(tensor.name);
    header.u32(tensor.shape.length);
    for (const dim of [...tensor.shape].reverse()) header.u64(dim);
    header.u32(GGML_TYPE_F32);
    header.u64(dataSize);
    offsets.push(dataSize);
    dataSize = alignUp(dataSize + count * 4, alignment);
  }
  header.padTo(alignment);

  const data = Buffer.alloc(dataSize);
  tensors.forEach((tensor, index) => {
    const base = offsets[index] ?? 0;
    tensor.data.forEach((value, i) => data.writeFloatLE(value, base + i * 4));
  });
  return Buffer.concat([header.toBuffer(), data]);
}
