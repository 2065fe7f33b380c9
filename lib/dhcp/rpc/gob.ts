/**
 * Go's encoding/gob, for the few types Go's net/rpc exchanges with the reference dhcp daemon and
 * plugin (see go-rpc.ts). The format (encoding/gob's package documentation): a stream of
 * messages, each a length and then either a type definition (a negative type id and a wireType)
 * or a value (a type id and the value). Integers are variable-length, structs are sequences of
 * (field number delta, value) ending with a zero delta, fields with zero values are left out.
 *
 * The encoder sends the types we describe (GobType); the decoder reads any type the other side
 * defines into plain values, by field name, so fields one side has and the other lacks (the
 * reference's types changed between releases) are simply absent. Every length and count is
 * checked against the bytes actually there: no input can make the decoder allocate more than
 * the message it was given.
 */

/** A Go type as gob sends it. `name` is Go's name for it, informative only. */
export type GobType =
  | { kind: "bool" | "int" | "uint" | "float" | "bytes" | "string" }
  | { kind: "slice"; name: string; elem: GobType }
  | { kind: "map"; name: string; key: GobType; elem: GobType }
  | { kind: "struct"; name: string; fields: readonly GobField[] };

export interface GobField {
  name: string;
  type: GobType;
}

/** A decoded (or to-be-encoded) value: structs are objects by field name, slices arrays. */
export type GobValue = boolean | number | bigint | string | Uint8Array | GobValue[] | Map<GobValue, GobValue> | GobStruct;
export interface GobStruct {
  [field: string]: GobValue | undefined;
}

export class GobError extends Error {
  constructor(message: string) {
    super(`gob: ${message}`);
    this.name = "GobError";
  }
}

export const BOOL: GobType = { kind: "bool" };
export const INT: GobType = { kind: "int" };
export const UINT: GobType = { kind: "uint" };
export const BYTES: GobType = { kind: "bytes" };
export const STRING: GobType = { kind: "string" };

/** The type ids gob reserves for its own types. */
const BuiltinId = { bool: 1, int: 2, uint: 3, float: 4, bytes: 5, string: 6, complex: 7, interface: 8 } as const;
const FIRST_USER_ID = 65;
/** wireType's fields, in order: which kind of type a definition describes. */
const WireField = { array: 0, slice: 1, struct: 2, map: 3, gobEncoder: 4, binaryMarshaler: 5, textMarshaler: 6 } as const;
const MAX_DEPTH = 64;

// ---------------------------------------------------------------------------------------------
// Writing

class Writer {
  private bytes: number[] = [];

  uint(value: number | bigint): void {
    let n = BigInt(value);
    if (n < 0n) throw new GobError(`negative unsigned integer ${n}`);
    if (n < 128n) {
      this.bytes.push(Number(n));
      return;
    }
    const be: number[] = [];
    while (n > 0n) {
      be.unshift(Number(n & 0xffn));
      n >>= 8n;
    }
    this.bytes.push(256 - be.length, ...be);
  }

  int(value: number | bigint): void {
    const n = BigInt(value);
    this.uint(n < 0n ? ((~n) << 1n) | 1n : n << 1n);
  }

  raw(data: Uint8Array): void {
    for (const byte of data) this.bytes.push(byte);
  }

  byteString(data: Uint8Array): void {
    this.uint(data.length);
    this.raw(data);
  }

  get length(): number {
    return this.bytes.length;
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** Writes a struct's fields as (delta, value) pairs; `end` writes the terminating zero. */
class StructWriter {
  private last = -1;
  constructor(private readonly out: Writer) {}

  field(index: number, write: (out: Writer) => void): void {
    this.out.uint(index - this.last);
    this.last = index;
    write(this.out);
  }

  end(): void {
    this.out.uint(0);
  }
}

const utf8 = new TextEncoder();

/**
 * One encoder per stream: it sends each type's definition once, before the first value of
 * that type, as Go's Encoder does.
 */
export class GobEncoder {
  private readonly ids = new Map<GobType, number>();
  private readonly defined = new Set<GobType>();
  private nextId = FIRST_USER_ID;

  /** The messages that carry `value`: definitions of types not sent before, then the value. */
  encode(type: GobType, value: GobValue): Uint8Array {
    const out = new Writer();
    this.defineTypes(type, out);
    const payload = new Writer();
    payload.int(this.idOf(type));
    if (type.kind === "struct") {
      this.writeStruct(type, value, payload);
    } else {
      payload.uint(0); // a value that is not a struct goes as the single field of an implicit one
      this.writeValue(type, value, payload);
    }
    out.uint(payload.length);
    out.raw(payload.toBytes());
    return out.toBytes();
  }

  private idOf(type: GobType): number {
    switch (type.kind) {
      case "bool":
      case "int":
      case "uint":
      case "float":
      case "bytes":
      case "string":
        return BuiltinId[type.kind];
    }
    let id = this.ids.get(type);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(type, id);
    }
    return id;
  }

  private children(type: GobType): GobType[] {
    switch (type.kind) {
      case "slice":
        return [type.elem];
      case "map":
        return [type.key, type.elem];
      case "struct":
        return type.fields.map((field) => field.type);
      default:
        return [];
    }
  }

  /** Sends the definitions of `type` and of the types inside it that were not sent yet. */
  private defineTypes(type: GobType, out: Writer): void {
    if (this.idOf(type) < FIRST_USER_ID || this.defined.has(type)) return;
    this.defined.add(type);
    for (const child of this.children(type)) this.idOf(child);
    const payload = new Writer();
    payload.int(-this.idOf(type));
    this.writeWireType(type, payload);
    out.uint(payload.length);
    out.raw(payload.toBytes());
    for (const child of this.children(type)) this.defineTypes(child, out);
  }

  private writeWireType(type: GobType, out: Writer): void {
    const wire = new StructWriter(out);
    const common = (fields: StructWriter) =>
      fields.field(0, (w) => {
        const commonType = new StructWriter(w);
        const name = "name" in type ? type.name : "";
        if (name) commonType.field(0, (x) => x.byteString(utf8.encode(name)));
        commonType.field(1, (x) => x.int(this.idOf(type)));
        commonType.end();
      });
    const definition = (index: number, body: (fields: StructWriter) => void) =>
      wire.field(index, (w) => {
        const fields = new StructWriter(w);
        common(fields);
        body(fields);
        fields.end();
      });
    switch (type.kind) {
      case "slice":
        definition(WireField.slice, (fields) => fields.field(1, (w) => w.int(this.idOf(type.elem))));
        break;
      case "map":
        definition(WireField.map, (fields) => {
          fields.field(1, (w) => w.int(this.idOf(type.key)));
          fields.field(2, (w) => w.int(this.idOf(type.elem)));
        });
        break;
      case "struct":
        definition(WireField.struct, (fields) => {
          if (type.fields.length === 0) return;
          fields.field(1, (w) => {
            w.uint(type.fields.length);
            for (const field of type.fields) {
              const fieldType = new StructWriter(w);
              fieldType.field(0, (x) => x.byteString(utf8.encode(field.name)));
              fieldType.field(1, (x) => x.int(this.idOf(field.type)));
              fieldType.end();
            }
          });
        });
        break;
      default:
        throw new GobError(`${type.kind} is a built-in type and needs no definition`);
    }
    wire.end();
  }

  private writeStruct(type: Extract<GobType, { kind: "struct" }>, value: GobValue, out: Writer): void {
    if (!isStruct(value)) throw new GobError(`${type.name}: expected an object, got ${describe(value)}`);
    const fields = new StructWriter(out);
    type.fields.forEach((field, index) => {
      const fieldValue = value[field.name];
      if (fieldValue === undefined || (field.type.kind !== "struct" && isZero(field.type, fieldValue))) return;
      fields.field(index, (w) => this.writeValue(field.type, fieldValue, w));
    });
    fields.end();
  }

  /** Writes a value even when it is zero (struct fields are left out by writeStruct). */
  private writeValue(type: GobType, value: GobValue, out: Writer): void {
    const mismatch = () => new GobError(`expected a ${type.kind} value, got ${describe(value)}`);
    switch (type.kind) {
      case "bool":
        if (typeof value !== "boolean") throw mismatch();
        out.uint(value ? 1 : 0);
        return;
      case "int":
      case "uint":
        if (typeof value !== "number" && typeof value !== "bigint") throw mismatch();
        if (typeof value === "number" && !Number.isInteger(value)) throw mismatch();
        if (type.kind === "int") out.int(value);
        else out.uint(value);
        return;
      case "float":
        throw new GobError("encoding floats is not needed by this protocol and not implemented");
      case "bytes":
        if (!(value instanceof Uint8Array)) throw mismatch();
        out.byteString(value);
        return;
      case "string":
        if (typeof value !== "string") throw mismatch();
        out.byteString(utf8.encode(value));
        return;
      case "slice":
        if (!Array.isArray(value)) throw mismatch();
        out.uint(value.length);
        for (const element of value) this.writeValue(type.elem, element, out);
        return;
      case "map":
        if (!(value instanceof Map)) throw mismatch();
        out.uint(value.size);
        for (const [key, element] of value) {
          this.writeValue(type.key, key, out);
          this.writeValue(type.elem, element, out);
        }
        return;
      case "struct":
        this.writeStruct(type, value, out);
        return;
    }
  }
}

/** Go leaves a struct field out when it holds its type's zero value. */
function isZero(type: GobType, value: GobValue): boolean {
  switch (type.kind) {
    case "bool":
      return value === false;
    case "int":
    case "uint":
    case "float":
      return value === 0 || value === 0n;
    case "string":
      return value === "";
    case "bytes":
      return value instanceof Uint8Array && value.length === 0;
    case "slice":
      return Array.isArray(value) && value.length === 0;
    case "map":
      return false; // Go sends an empty map that is not nil; only a nil (absent) map is left out
    case "struct":
      return false;
  }
}

function isStruct(value: GobValue): value is GobStruct {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && !(value instanceof Map);
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return "bytes";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

// ---------------------------------------------------------------------------------------------
// Reading

class Reader {
  private position = 0;
  constructor(private readonly data: Uint8Array) {}

  get remaining(): number {
    return this.data.length - this.position;
  }

  private byte(): number {
    if (this.position >= this.data.length) throw new GobError("message ends in the middle of a value");
    return this.data[this.position++]!;
  }

  uintBig(): bigint {
    const first = this.byte();
    if (first < 128) return BigInt(first);
    const count = 256 - first;
    if (count > 8) throw new GobError(`an unsigned integer of ${count} bytes (at most 8)`);
    let value = 0n;
    for (let i = 0; i < count; i++) value = (value << 8n) | BigInt(this.byte());
    return value;
  }

  uint(): number | bigint {
    return narrow(this.uintBig());
  }

  /** A count or length, which must fit in what is left of the message. */
  count(what: string): number {
    const value = this.uintBig();
    if (value > BigInt(this.remaining)) throw new GobError(`${what} of ${value} exceeds the ${this.remaining} bytes left in the message`);
    return Number(value);
  }

  intBig(): bigint {
    const u = this.uintBig();
    return u & 1n ? ~(u >> 1n) : u >> 1n;
  }

  int(): number | bigint {
    return narrow(this.intBig());
  }

  float(): number {
    const bits = this.uintBig();
    const bytes = new Uint8Array(8);
    for (let i = 0; i < 8; i++) bytes[i] = Number((bits >> BigInt(8 * i)) & 0xffn); // gob sends floats byte-reversed
    return new DataView(bytes.buffer).getFloat64(0, false);
  }

  bytes(what: string): Uint8Array {
    const length = this.count(`${what} length`);
    const slice = this.data.slice(this.position, this.position + length);
    this.position += length;
    return slice;
  }
}

function narrow(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value;
}

type WireType =
  | { kind: "struct"; name: string; fields: { name: string; id: number }[] }
  | { kind: "slice"; name: string; elem: number }
  | { kind: "array"; name: string; elem: number; length: number }
  | { kind: "map"; name: string; key: number; elem: number }
  | { kind: "external"; name: string };

const utf8Decoder = new TextDecoder();

/**
 * One decoder per stream: it learns the types the other side defines and decodes values of
 * them into GobValues.
 */
export class GobDecoder {
  private readonly types = new Map<number, WireType>();

  /**
   * Decodes one message (its bytes after the length): a type definition, which returns
   * undefined, or a value.
   */
  decodeMessage(message: Uint8Array): { typeId: number; value: GobValue } | undefined {
    const reader = new Reader(message);
    const id = Number(reader.intBig());
    if (id < 0) {
      this.define(-id, reader);
    } else {
      const value = this.readTopLevel(id, reader);
      if (reader.remaining > 0) throw new GobError(`${reader.remaining} bytes left over after a value of type ${id}`);
      return { typeId: id, value };
    }
    if (reader.remaining > 0) throw new GobError(`${reader.remaining} bytes left over after the definition of type ${-id}`);
    return undefined;
  }

  private define(id: number, reader: Reader): void {
    if (id < FIRST_USER_ID) throw new GobError(`type id ${id} is reserved for gob's own types`);
    if (this.types.has(id)) throw new GobError(`type ${id} is defined twice`);
    let definition: WireType | undefined;
    readStruct(reader, (index) => {
      if (definition) throw new GobError(`type ${id} has more than one definition`);
      definition = this.readDefinition(index, reader);
    });
    if (!definition) throw new GobError(`type ${id} has an empty definition`);
    this.types.set(id, definition);
  }

  private readDefinition(index: number, reader: Reader): WireType {
    let name = "";
    const ids: number[] = [];
    const fields: { name: string; id: number }[] = [];
    readStruct(reader, (field) => {
      if (field === 0) {
        readStruct(reader, (common) => {
          if (common === 0) name = utf8Decoder.decode(reader.bytes("type name"));
          else if (common === 1) reader.intBig();
          else throw new GobError(`CommonType has no field ${common}`);
        });
        return;
      }
      if (index === WireField.struct && field === 1) {
        const count = reader.count("field count");
        for (let i = 0; i < count; i++) {
          const entry = { name: "", id: 0 };
          readStruct(reader, (part) => {
            if (part === 0) entry.name = utf8Decoder.decode(reader.bytes("field name"));
            else if (part === 1) entry.id = Number(reader.intBig());
            else throw new GobError(`fieldType has no field ${part}`);
          });
          fields.push(entry);
        }
        return;
      }
      ids[field] = Number(reader.intBig());
    });
    switch (index) {
      case WireField.struct:
        return { kind: "struct", name, fields };
      case WireField.slice:
        return { kind: "slice", name, elem: ids[1] ?? 0 };
      case WireField.array:
        return { kind: "array", name, elem: ids[1] ?? 0, length: ids[2] ?? 0 };
      case WireField.map:
        return { kind: "map", name, key: ids[1] ?? 0, elem: ids[2] ?? 0 };
      case WireField.gobEncoder:
      case WireField.binaryMarshaler:
      case WireField.textMarshaler:
        return { kind: "external", name };
      default:
        throw new GobError(`wireType has no field ${index}`);
    }
  }

  private readTopLevel(id: number, reader: Reader): GobValue {
    const type = this.types.get(id);
    if (type?.kind === "struct") return this.readValue(id, reader, 0);
    if (reader.uintBig() !== 0n) throw new GobError("a value that is not a struct must start with a zero delta");
    return this.readValue(id, reader, 0);
  }

  private readValue(id: number, reader: Reader, depth: number): GobValue {
    if (depth > MAX_DEPTH) throw new GobError(`values nested deeper than ${MAX_DEPTH} levels`);
    switch (id) {
      case BuiltinId.bool:
        return reader.uintBig() !== 0n;
      case BuiltinId.int:
        return reader.int();
      case BuiltinId.uint:
        return reader.uint();
      case BuiltinId.float:
        return reader.float();
      case BuiltinId.bytes:
        return reader.bytes("byte slice");
      case BuiltinId.string:
        return utf8Decoder.decode(reader.bytes("string"));
      case BuiltinId.complex:
        return [reader.float(), reader.float()];
      case BuiltinId.interface:
        throw new GobError("interface values are not supported");
    }
    const type = this.types.get(id);
    if (!type) throw new GobError(`a value of type ${id}, which was never defined`);
    switch (type.kind) {
      case "external":
        return reader.bytes(type.name || "marshaled value");
      case "slice":
      case "array": {
        const count = reader.count(`${type.name || "slice"} element count`);
        if (type.kind === "array" && count !== type.length) throw new GobError(`array ${type.name} of length ${type.length} sent with ${count} elements`);
        const elements: GobValue[] = [];
        for (let i = 0; i < count; i++) elements.push(this.readValue(type.elem, reader, depth + 1));
        return elements;
      }
      case "map": {
        const count = reader.count(`${type.name || "map"} entry count`);
        const map = new Map<GobValue, GobValue>();
        for (let i = 0; i < count; i++) map.set(this.readValue(type.key, reader, depth + 1), this.readValue(type.elem, reader, depth + 1));
        return map;
      }
      case "struct": {
        const value: GobStruct = {};
        readStruct(reader, (index) => {
          const field = type.fields[index];
          if (!field) throw new GobError(`struct ${type.name} has no field ${index}`);
          value[field.name] = this.readValue(field.id, reader, depth + 1);
        });
        return value;
      }
    }
  }
}

/** Reads (delta, field) pairs up to the zero delta, calling `field` with each field's index. */
function readStruct(reader: Reader, field: (index: number) => void): void {
  let index = -1;
  for (;;) {
    const delta = reader.uintBig();
    if (delta === 0n) return;
    if (delta > 1_000_000n) throw new GobError(`field delta ${delta} is out of range`);
    index += Number(delta);
    field(index);
  }
}

/**
 * Splits the next message off a stream buffer: undefined until all of it has arrived. A message
 * longer than `maxLength` is refused before it is read.
 */
export function nextMessage(buffer: Uint8Array, maxLength: number): { message: Uint8Array; rest: Uint8Array } | undefined {
  if (buffer.length === 0) return undefined;
  const first = buffer[0]!;
  let length: bigint;
  let header: number;
  if (first < 128) {
    length = BigInt(first);
    header = 1;
  } else {
    const count = 256 - first;
    if (count > 8) throw new GobError(`a message length of ${count} bytes`);
    if (buffer.length < 1 + count) return undefined;
    length = 0n;
    for (let i = 1; i <= count; i++) length = (length << 8n) | BigInt(buffer[i]!);
    header = 1 + count;
  }
  if (length > BigInt(maxLength)) throw new GobError(`a message of ${length} bytes (at most ${maxLength} accepted)`);
  if (length === 0n) throw new GobError("an empty message");
  const end = header + Number(length);
  if (buffer.length < end) return undefined;
  return { message: buffer.subarray(header, end), rest: buffer.subarray(end) };
}
