/**
 * The little of Thrift's compact protocol that Parquet metadata needs (structs, i32, i64, binary,
 * bool, lists of those), written forward into a growing buffer. A struct is written with `struct`,
 * its fields in increasing id order.
 */

const enum CompactType {
  True = 1,
  False = 2,
  I32 = 5,
  I64 = 6,
  Binary = 8,
  List = 9,
  Struct = 12,
}

/** An unsigned varint (ULEB128) of up to 2^53: Thrift's compact protocol, and Parquet's RLE headers. */
export function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return Uint8Array.from(bytes);
}

export class CompactWriter {
  private buffer = new Uint8Array(256);
  private length = 0;
  private lastField = 0;
  private readonly encoder = new TextEncoder();

  /** The bytes written so far. */
  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const bigger = new Uint8Array(Math.max(this.buffer.length * 2, this.length + bytes));
    bigger.set(this.buffer.subarray(0, this.length));
    this.buffer = bigger;
  }

  private byte(value: number): void {
    this.room(1);
    this.buffer[this.length++] = value;
  }

  private varint(value: number): void {
    const bytes = varint(value);
    this.room(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Zigzag, then varint: small negative numbers stay short. */
  private zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  private field(id: number, type: CompactType): void {
    const delta = id - this.lastField;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.zigzag(id);
    }
    this.lastField = id;
  }

  i32(id: number, value: number): this {
    this.field(id, CompactType.I32);
    this.zigzag(value);
    return this;
  }

  /** An i64 given as a safe integer (sizes, offsets and counts are). */
  i64(id: number, value: number): this {
    this.field(id, CompactType.I64);
    this.zigzag(value);
    return this;
  }

  bool(id: number, value: boolean): this {
    this.field(id, value ? CompactType.True : CompactType.False);
    return this;
  }

  string(id: number, value: string): this {
    this.field(id, CompactType.Binary);
    this.utf8(value);
    return this;
  }

  /** A binary value: varint length, then the UTF-8 bytes. */
  private utf8(value: string): void {
    const bytes = this.encoder.encode(value);
    this.varint(bytes.length);
    this.room(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** A struct field; `body` writes its fields. */
  struct(id: number, body: (w: this) => void): this {
    this.field(id, CompactType.Struct);
    this.nested(body);
    return this;
  }

  private nested(body: (w: this) => void): void {
    const outer = this.lastField;
    this.lastField = 0;
    body(this);
    this.byte(0);
    this.lastField = outer;
  }

  private listHeader(id: number, size: number, type: CompactType): void {
    this.field(id, CompactType.List);
    if (size < 15) this.byte((size << 4) | type);
    else {
      this.byte(0xf0 | type);
      this.varint(size);
    }
  }

  i32List(id: number, values: readonly number[]): this {
    this.listHeader(id, values.length, CompactType.I32);
    for (const v of values) this.zigzag(v);
    return this;
  }

  stringList(id: number, values: readonly string[]): this {
    this.listHeader(id, values.length, CompactType.Binary);
    for (const v of values) this.utf8(v);
    return this;
  }

  structList<T>(id: number, items: readonly T[], body: (w: this, item: T) => void): this {
    this.listHeader(id, items.length, CompactType.Struct);
    for (const item of items) this.nested((w) => body(w, item));
    return this;
  }

  /** Ends the top-level struct. */
  end(): Uint8Array {
    this.byte(0);
    return this.bytes();
  }
}
