import { HOST_LITTLE_ENDIAN, align4, cString, dataView, utf8 } from "./bytes.ts";
import { NLA_HDRLEN, NLA_TYPE_MASK } from "./constants.ts";

/**
 * Netlink attributes (struct nlattr / rtattr): a 4-byte header (length, type) and a payload,
 * each padded to 4 bytes. A nested attribute's payload is itself a list of attributes.
 *
 * Encoding builds a small tree that is serialized in one pass; decoding wraps one level of a
 * payload in an AttributeSet with typed getters. Both are generic: a new message family (tc
 * qdiscs and filters, say) only needs its own attribute numbers.
 */
export interface Attribute {
  /** The attribute type, including NLA_F_NESTED / NLA_F_NET_BYTEORDER when the kernel wants them. */
  readonly type: number;
  readonly payload: Uint8Array | AttributeList;
}

/** Lists may hold undefined for optional attributes that were not given; they are skipped. */
export type AttributeList = readonly (Attribute | undefined)[];

/**
 * An encoder for one payload kind. Passing undefined as the value yields undefined, so optional
 * fields read naturally: `attr.u32(IFLA_MTU, spec.mtu)`.
 */
export interface AttributeEncoder<T> {
  (type: number, value: T): Attribute;
  (type: number, value: T | undefined): Attribute | undefined;
}

function encoder<T>(payloadOf: (value: T) => Uint8Array): AttributeEncoder<T> {
  return ((type: number, value: T | undefined) =>
    value === undefined ? undefined : { type, payload: payloadOf(value) }) as AttributeEncoder<T>;
}

function fixedWidth(width: number, write: (view: DataView, value: number) => void) {
  return encoder<number>((value) => {
    const bytes = new Uint8Array(width);
    write(dataView(bytes), value);
    return bytes;
  });
}

export const attr = {
  bytes: encoder<Uint8Array>((value) => value),
  u8: fixedWidth(1, (view, value) => view.setUint8(0, value)),
  u16: fixedWidth(2, (view, value) => view.setUint16(0, value, HOST_LITTLE_ENDIAN)),
  u32: fixedWidth(4, (view, value) => view.setUint32(0, value, HOST_LITTLE_ENDIAN)),
  i32: fixedWidth(4, (view, value) => view.setInt32(0, value, HOST_LITTLE_ENDIAN)),
  u16be: fixedWidth(2, (view, value) => view.setUint16(0, value, false)),
  u32be: fixedWidth(4, (view, value) => view.setUint32(0, value, false)),
  /** A u8 that is 1 for true and 0 for false (bridge port and bridge options). */
  bool: encoder<boolean>((value) => Uint8Array.of(value ? 1 : 0)),
  /** A NUL-terminated string (names: IFLA_IFNAME, FRA_IIFNAME, IFA_LABEL). */
  string: encoder<string>((value) => utf8(`${value}\0`)),
  /** A string without terminator, as iproute2 sends IFLA_INFO_KIND (tc sends TCA_KIND with its NUL). */
  unterminatedString: encoder<string>((value) => utf8(value)),
  /**
   * A nested attribute. The kernel only insists on NLA_F_NESTED for some attributes (IFLA_PROTINFO
   * of AF_BRIDGE, anything parsed with strict nla_parse_nested); pass `type | NLA_F_NESTED` there.
   */
  nested(type: number, children: AttributeList): Attribute {
    return { type, payload: children };
  },
};

/** Serializes attributes back to back, each padded to 4 bytes. */
export function encodeAttributes(attributes: AttributeList): Uint8Array {
  const bytes = new Uint8Array(listLength(attributes));
  writeList(dataView(bytes), bytes, 0, attributes);
  return bytes;
}

function payloadLength(attribute: Attribute): number {
  return attribute.payload instanceof Uint8Array ? attribute.payload.byteLength : listLength(attribute.payload);
}

function listLength(attributes: AttributeList): number {
  let total = 0;
  for (const attribute of attributes) {
    if (attribute) total += align4(NLA_HDRLEN + payloadLength(attribute));
  }
  return total;
}

function writeList(view: DataView, bytes: Uint8Array, start: number, attributes: AttributeList): number {
  let offset = start;
  for (const attribute of attributes) {
    if (!attribute) continue;
    // nla_len counts the header and payload but not the trailing padding of this attribute;
    // a nested payload's own length already includes its children's padding.
    const length = NLA_HDRLEN + payloadLength(attribute);
    if (length > 0xffff) throw new Error(`netlink attribute type ${attribute.type} is too long (${length} bytes)`);
    view.setUint16(offset, length, HOST_LITTLE_ENDIAN);
    view.setUint16(offset + 2, attribute.type, HOST_LITTLE_ENDIAN);
    if (attribute.payload instanceof Uint8Array) bytes.set(attribute.payload, offset + NLA_HDRLEN);
    else writeList(view, bytes, offset + NLA_HDRLEN, attribute.payload);
    offset += align4(length);
  }
  return offset;
}

/** One level of decoded attributes. Getters return undefined when the attribute is absent. */
export class AttributeSet {
  private constructor(private readonly entries: readonly { type: number; payload: Uint8Array }[]) {}

  /** Parses attributes back to back; the kernel's flag bits are stripped from the types. */
  static parse(bytes: Uint8Array): AttributeSet {
    const entries: { type: number; payload: Uint8Array }[] = [];
    const view = dataView(bytes);
    let offset = 0;
    while (offset + NLA_HDRLEN <= bytes.byteLength) {
      const length = view.getUint16(offset, HOST_LITTLE_ENDIAN);
      const type = view.getUint16(offset + 2, HOST_LITTLE_ENDIAN) & NLA_TYPE_MASK;
      if (length < NLA_HDRLEN || offset + length > bytes.byteLength) {
        throw new Error(`malformed netlink attribute (type ${type}, length ${length}) at offset ${offset}`);
      }
      entries.push({ type, payload: bytes.subarray(offset + NLA_HDRLEN, offset + length) });
      offset += align4(length);
    }
    return new AttributeSet(entries);
  }

  has(type: number): boolean {
    return this.entries.some((entry) => entry.type === type);
  }

  /** The payload of the first attribute of this type. */
  bytes(type: number): Uint8Array | undefined {
    return this.entries.find((entry) => entry.type === type)?.payload;
  }

  /** Payloads of every attribute of this type, in order (lists such as IFLA_BRIDGE_VLAN_INFO). */
  all(type: number): Uint8Array[] {
    return this.entries.filter((entry) => entry.type === type).map((entry) => entry.payload);
  }

  u8(type: number): number | undefined {
    return this.number(type, 1, (view) => view.getUint8(0));
  }

  u16(type: number): number | undefined {
    return this.number(type, 2, (view) => view.getUint16(0, HOST_LITTLE_ENDIAN));
  }

  u32(type: number): number | undefined {
    return this.number(type, 4, (view) => view.getUint32(0, HOST_LITTLE_ENDIAN));
  }

  i32(type: number): number | undefined {
    return this.number(type, 4, (view) => view.getInt32(0, HOST_LITTLE_ENDIAN));
  }

  u16be(type: number): number | undefined {
    return this.number(type, 2, (view) => view.getUint16(0, false));
  }

  u32be(type: number): number | undefined {
    return this.number(type, 4, (view) => view.getUint32(0, false));
  }

  /** A u8 flag as a boolean. */
  bool(type: number): boolean | undefined {
    const value = this.u8(type);
    return value === undefined ? undefined : value !== 0;
  }

  string(type: number): string | undefined {
    const payload = this.bytes(type);
    return payload === undefined ? undefined : cString(payload);
  }

  nested(type: number): AttributeSet | undefined {
    const payload = this.bytes(type);
    return payload === undefined ? undefined : AttributeSet.parse(payload);
  }

  private number(type: number, width: number, read: (view: DataView) => number): number | undefined {
    const payload = this.bytes(type);
    if (payload === undefined) return undefined;
    if (payload.byteLength < width) {
      throw new Error(`netlink attribute type ${type} has ${payload.byteLength} bytes, expected ${width}`);
    }
    return read(dataView(payload));
  }
}

/**
 * A decoded object with its optional fields set only where the kernel sent the attribute, so
 * that absent ones stay absent (not present-but-undefined) in results and comparisons.
 */
export function withOptional<T extends object>(base: T, optional: { [K in keyof T]?: T[K] | undefined }): T {
  const result = { ...base };
  for (const key of Object.keys(optional) as (keyof T)[]) {
    const value = optional[key];
    if (value !== undefined) result[key] = value as T[keyof T];
  }
  return result;
}
