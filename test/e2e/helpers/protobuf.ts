/**
 * The little of the protobuf wire format (proto3) that a CRI client needs: encoding messages of
 * strings, integers, booleans, nested messages and string maps, and decoding fields by number.
 * Written out so the end-to-end tests need no gRPC or protobuf dependency.
 */

const VARINT = 0;
const LENGTH_DELIMITED = 2;

function varint(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`protobuf: cannot encode ${value} as a varint`);
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function key(field: number, wireType: number): Buffer {
  return varint(field * 8 + wireType);
}

/** An encoded field, or nothing for a proto3 default value (which is not sent). */
export type EncodedField = Buffer | undefined;

export function stringField(field: number, value: string | undefined): EncodedField {
  if (!value) return undefined;
  const bytes = Buffer.from(value, "utf8");
  return Buffer.concat([key(field, LENGTH_DELIMITED), varint(bytes.length), bytes]);
}

export function uintField(field: number, value: number | undefined): EncodedField {
  if (!value) return undefined;
  return Buffer.concat([key(field, VARINT), varint(value)]);
}

export function boolField(field: number, value: boolean | undefined): EncodedField {
  return value ? Buffer.concat([key(field, VARINT), varint(1)]) : undefined;
}

/** A nested message; sent even when empty, as a set sub-message is. */
export function messageField(field: number, value: Buffer | undefined): EncodedField {
  if (value === undefined) return undefined;
  return Buffer.concat([key(field, LENGTH_DELIMITED), varint(value.length), value]);
}

export function repeatedMessageField(field: number, values: Buffer[]): EncodedField {
  return values.length ? Buffer.concat(values.map((value) => messageField(field, value)!)) : undefined;
}

/** map<string, string>: on the wire, one entry message (key = 1, value = 2) per pair. */
export function stringMapField(field: number, map: Record<string, string> | undefined): EncodedField {
  const entries = Object.entries(map ?? {}).map(([k, v]) => message(stringField(1, k), stringField(2, v)));
  return repeatedMessageField(field, entries);
}

export function message(...fields: EncodedField[]): Buffer {
  return Buffer.concat(fields.filter((field): field is Buffer => field !== undefined));
}

/** A decoded message: every occurrence of every field, by field number. */
export class DecodedMessage {
  private constructor(private readonly fields: Map<number, Array<number | Buffer>>) {}

  static decode(bytes: Buffer): DecodedMessage {
    const fields = new Map<number, Array<number | Buffer>>();
    let offset = 0;
    const readVarint = (): number => {
      let value = 0;
      let scale = 1;
      for (;;) {
        if (offset >= bytes.length) throw new Error("protobuf: message ends inside a varint");
        const byte = bytes[offset++]!;
        value += (byte & 0x7f) * scale;
        if (byte < 0x80) return value;
        scale *= 0x80;
      }
    };
    while (offset < bytes.length) {
      const tag = readVarint();
      const field = Math.floor(tag / 8);
      const wireType = tag % 8;
      let value: number | Buffer;
      if (wireType === VARINT) value = readVarint();
      else if (wireType === LENGTH_DELIMITED) {
        const length = readVarint();
        value = bytes.subarray(offset, offset + length);
        offset += length;
      } else if (wireType === 1) {
        value = bytes.subarray(offset, offset + 8); // fixed64: kept as bytes, never needed as a number
        offset += 8;
      } else if (wireType === 5) {
        value = bytes.subarray(offset, offset + 4);
        offset += 4;
      } else throw new Error(`protobuf: unsupported wire type ${wireType} of field ${field}`);
      fields.set(field, [...(fields.get(field) ?? []), value]);
    }
    return new DecodedMessage(fields);
  }

  string(field: number): string {
    const value = this.last(field);
    return Buffer.isBuffer(value) ? value.toString("utf8") : "";
  }

  number(field: number): number {
    const value = this.last(field);
    return typeof value === "number" ? value : 0;
  }

  bool(field: number): boolean {
    return this.number(field) !== 0;
  }

  /** A nested message; an absent one decodes as empty, as proto3 reads it. */
  message(field: number): DecodedMessage {
    const value = this.last(field);
    return DecodedMessage.decode(Buffer.isBuffer(value) ? value : Buffer.alloc(0));
  }

  messages(field: number): DecodedMessage[] {
    return (this.fields.get(field) ?? []).filter(Buffer.isBuffer).map((value) => DecodedMessage.decode(value));
  }

  stringMap(field: number): Record<string, string> {
    return Object.fromEntries(this.messages(field).map((entry) => [entry.string(1), entry.string(2)]));
  }

  private last(field: number): number | Buffer | undefined {
    const values = this.fields.get(field);
    return values?.[values.length - 1];
  }
}
