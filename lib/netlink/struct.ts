import { HOST_LITTLE_ENDIAN, dataView } from "./bytes.ts";

/**
 * Fixed C structs (family headers such as ifinfomsg, tcmsg) described as ordered field lists.
 * Fields ending in "be" are in network byte order; the rest are in host byte order.
 */
export type FieldType = "u8" | "u16" | "u32" | "i32" | "u16be" | "u32be";

export type StructValues<F extends Record<string, FieldType>> = { [K in keyof F]: number };

export interface Struct<F extends Record<string, FieldType>> {
  readonly size: number;
  /** Fields left out are zero. */
  encode(values: Partial<StructValues<F>>): Uint8Array;
  /** Reads the struct at offset; throws when the bytes are too short. */
  decode(bytes: Uint8Array, offset?: number): StructValues<F>;
}

const FIELD_SIZE: Record<FieldType, number> = { u8: 1, u16: 2, u32: 4, i32: 4, u16be: 2, u32be: 4 };

export function struct<F extends Record<string, FieldType>>(name: string, fields: F): Struct<F> {
  const layout: { field: keyof F; type: FieldType; offset: number }[] = [];
  let size = 0;
  for (const [field, type] of Object.entries(fields) as [keyof F & string, FieldType][]) {
    const width = FIELD_SIZE[type];
    // The C compiler would insert padding here; an explicit pad field keeps layouts honest.
    if (size % width !== 0) throw new Error(`struct ${name}: field ${field} is not naturally aligned`);
    layout.push({ field, type, offset: size });
    size += width;
  }

  return {
    size,
    encode(values) {
      const bytes = new Uint8Array(size);
      const view = dataView(bytes);
      for (const { field, type, offset } of layout) {
        const value = values[field];
        if (value !== undefined) writeField(view, type, offset, value);
      }
      return bytes;
    },
    decode(bytes, start = 0) {
      if (bytes.byteLength < start + size) {
        throw new Error(`struct ${name}: need ${size} bytes at offset ${start}, have ${bytes.byteLength - start}`);
      }
      const view = dataView(bytes);
      const values = {} as StructValues<F>;
      for (const { field, type, offset } of layout) values[field] = readField(view, type, start + offset);
      return values;
    },
  };
}

function writeField(view: DataView, type: FieldType, offset: number, value: number): void {
  switch (type) {
    case "u8":
      return view.setUint8(offset, value);
    case "u16":
      return view.setUint16(offset, value, HOST_LITTLE_ENDIAN);
    case "u32":
      return view.setUint32(offset, value, HOST_LITTLE_ENDIAN);
    case "i32":
      return view.setInt32(offset, value, HOST_LITTLE_ENDIAN);
    case "u16be":
      return view.setUint16(offset, value, false);
    case "u32be":
      return view.setUint32(offset, value, false);
  }
}

function readField(view: DataView, type: FieldType, offset: number): number {
  switch (type) {
    case "u8":
      return view.getUint8(offset);
    case "u16":
      return view.getUint16(offset, HOST_LITTLE_ENDIAN);
    case "u32":
      return view.getUint32(offset, HOST_LITTLE_ENDIAN);
    case "i32":
      return view.getInt32(offset, HOST_LITTLE_ENDIAN);
    case "u16be":
      return view.getUint16(offset, false);
    case "u32be":
      return view.getUint32(offset, false);
  }
}
