import { describe, expect, it } from "vitest";
import { AttributeSet, attr, encodeAttributes } from "../../../lib/netlink/attributes.ts";
import { NLA_F_NESTED } from "../../../lib/netlink/constants.ts";
import { fromHex, hex } from "./fixtures.ts";

describe("attribute encoding", () => {
  it("writes the length without padding and pads the payload to 4 bytes", () => {
    expect(hex(encodeAttributes([attr.u8(7, 1)]))).toBe("0500070001000000");
    expect(hex(encodeAttributes([attr.u16(39, 1)]))).toBe("0600270001000000");
    expect(hex(encodeAttributes([attr.u32(4, 1400)]))).toBe("0800040078050000");
  });

  it("terminates strings with NUL unless asked not to", () => {
    expect(hex(encodeAttributes([attr.string(3, "br0")]))).toBe("0800030062723000");
    expect(hex(encodeAttributes([attr.unterminatedString(1, "veth")]))).toBe("0800010076657468");
    expect(hex(encodeAttributes([attr.unterminatedString(1, "ifb")]))).toBe("0700010069666200");
  });

  it("writes network byte order for the be encoders", () => {
    expect(hex(encodeAttributes([attr.u16be(1, 0x8100), attr.u32be(2, 0x0a000001)]))).toBe(
      "0600010081000000" + "080002000a000001",
    );
  });

  it("skips attributes whose value is undefined", () => {
    const mtu: number | undefined = undefined;
    expect(hex(encodeAttributes([attr.u32(4, mtu), attr.bool(4, undefined), attr.u8(1, 2)]))).toBe("0500010002000000");
  });

  it("counts the children's padding in a nested attribute's length and keeps the type's flags", () => {
    const nested = attr.nested(12 | NLA_F_NESTED, [attr.u8(4, 1), attr.u8(8, 0)]);
    expect(hex(encodeAttributes([nested]))).toBe("14000c80" + "0500040001000000" + "0500080000000000");
  });

  it("encodes an empty nest as a bare header", () => {
    expect(hex(encodeAttributes([attr.nested(2, [])]))).toBe("04000200");
  });
});

describe("attribute decoding", () => {
  const bytes = encodeAttributes([
    attr.u8(1, 200),
    attr.u16(2, 1500),
    attr.u32(3, 4_000_000_000),
    attr.i32(4, -1),
    attr.string(5, "veth0"),
    attr.nested(6 | NLA_F_NESTED, [attr.u32(1, 7), attr.u32(1, 8)]),
    attr.u16be(7, 0x8100),
  ]);
  const set = AttributeSet.parse(bytes);

  it("reads numbers in host and network byte order", () => {
    expect(set.u8(1)).toBe(200);
    expect(set.u16(2)).toBe(1500);
    expect(set.u32(3)).toBe(4_000_000_000);
    expect(set.i32(4)).toBe(-1);
    expect(set.u16be(7)).toBe(0x8100);
  });

  it("reads strings up to their NUL", () => {
    expect(set.string(5)).toBe("veth0");
  });

  it("strips NLA_F_NESTED from types and lists repeated attributes in order", () => {
    const nested = set.nested(6);
    expect(nested?.all(1).map(hex)).toEqual(["07000000", "08000000"]);
    expect(nested?.u32(1)).toBe(7);
  });

  it("answers undefined for absent attributes", () => {
    expect(set.has(9)).toBe(false);
    expect(set.u32(9)).toBeUndefined();
    expect(set.nested(9)).toBeUndefined();
  });

  it("refuses an attribute that runs past the buffer", () => {
    expect(() => AttributeSet.parse(fromHex("0c00010001000000"))).toThrow(/malformed netlink attribute \(type 1, length 12\)/);
  });

  it("refuses a number attribute that is too short", () => {
    expect(() => AttributeSet.parse(fromHex("0500010001000000")).u32(1)).toThrow(/has 1 bytes, expected 4/);
  });
});
