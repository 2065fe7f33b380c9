import { describe, expect, it } from "vitest";
import { AddressParseError, canonicalIP, IPAddress, isIP } from "../../../lib/ip/index.ts";

describe("IPAddress parsing", () => {
  it("reads IPv4 dotted quads", () => {
    const ip = IPAddress.parse("10.1.2.3");
    expect(ip.family).toBe(4);
    expect(ip.value).toBe(0x0a010203n);
  });

  it("reads IPv6 in any case and abbreviation", () => {
    expect(IPAddress.parse("FD00:0:0:0:0:0:0:AB").value).toBe(0xfd00_0000_0000_0000_0000_0000_0000_00abn);
    expect(IPAddress.parse("fd00::ab").family).toBe(6);
    expect(IPAddress.parse("::").value).toBe(0n);
    expect(IPAddress.parse("1:2:3:4:5:6:1.2.3.4").toString()).toBe("1:2:3:4:5:6:102:304");
  });

  it("treats an IPv4-mapped IPv6 address as the IPv4 address, as Go's To4 does", () => {
    const ip = IPAddress.parse("::ffff:10.1.2.3");
    expect(ip.family).toBe(4);
    expect(ip.equals(IPAddress.parse("10.1.2.3"))).toBe(true);
  });

  it.each([
    ["", "empty"],
    ["1.2.3", "three octets"],
    ["1.2.3.4.5", "five octets"],
    ["256.1.1.1", "octet over 255"],
    ["01.2.3.4", "leading zero (Go rejects it since 1.17)"],
    ["1.2.3.4/24", "a prefix"],
    [" 1.2.3.4", "surrounding space"],
    ["fd00::1%eth0", "a zone"],
    ["[fd00::1]", "brackets"],
    ["fd00::/64", "an IPv6 prefix"],
    ["1::2::3", "two ellipses"],
    ["1:2:3:4:5:6:7:8:9", "nine groups"],
    ["12345::1", "a five-digit group"],
    ["g::1", "a non-hex digit"],
    ["::ffff:01.2.3.4", "a leading zero in an embedded IPv4"],
  ])("rejects %j (%s)", (text) => {
    expect(() => IPAddress.parse(text)).toThrow(AddressParseError);
    expect(IPAddress.tryParse(text)).toBeUndefined();
    expect(isIP(text)).toBe(false);
  });

  it("says why in the error", () => {
    expect(() => IPAddress.parse("10.0.0.300")).toThrow('"10.0.0.300" is not a valid IPv4 address');
  });
});

describe("IPAddress text, as Go's net.IP.String() writes it", () => {
  it.each([
    ["10.0.0.1", "10.0.0.1"],
    ["FD00:AB::1", "fd00:ab::1"],
    ["2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["1:0:0:1:0:0:0:1", "1:0:0:1::1"],
    ["1:0:0:0:1:0:0:1", "1::1:0:0:1"],
    ["1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"],
    ["0:2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["::ffff:1.2.3.4", "1.2.3.4"],
    ["::1.2.3.4", "::102:304"],
  ])("%s prints as %s", (text, printed) => {
    expect(canonicalIP(text)).toBe(printed);
    expect(JSON.stringify(IPAddress.parse(text))).toBe(JSON.stringify(printed));
  });
});

describe("IPAddress arithmetic", () => {
  it("steps to the next and previous address across octet and group boundaries", () => {
    expect(IPAddress.parse("10.0.0.255").next().toString()).toBe("10.0.1.0");
    expect(IPAddress.parse("10.0.1.0").previous().toString()).toBe("10.0.0.255");
    expect(IPAddress.parse("fd00::ffff").next().toString()).toBe("fd00::1:0");
    expect(IPAddress.parse("fd00::1").add(-1n).toString()).toBe("fd00::");
  });

  it("refuses to step out of the family", () => {
    expect(() => IPAddress.parse("255.255.255.255").next()).toThrow(RangeError);
    expect(() => IPAddress.parse("0.0.0.0").previous()).toThrow(RangeError);
    expect(() => IPAddress.parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").next()).toThrow(RangeError);
  });

  it("orders addresses within a family by value and IPv4 before IPv6", () => {
    const sorted = ["fd00::1", "10.0.0.9", "10.0.0.10", "::1"].map((text) => IPAddress.parse(text)).sort((a, b) => a.compare(b));
    expect(sorted.map(String)).toEqual(["10.0.0.9", "10.0.0.10", "::1", "fd00::1"]);
    expect(IPAddress.parse("10.0.0.1").compare(IPAddress.parse("10.0.0.1"))).toBe(0);
  });

  it("does not equate an IPv4 address with the IPv6 address of the same value", () => {
    expect(IPAddress.fromBigInt(1n, 4).equals(IPAddress.fromBigInt(1n, 6))).toBe(false);
  });

  it("converts to and from network-order bytes", () => {
    expect([...IPAddress.parse("10.1.2.3").toBytes()]).toEqual([10, 1, 2, 3]);
    expect(IPAddress.fromBytes(IPAddress.parse("fd00::5").toBytes()).toString()).toBe("fd00::5");
    const mapped = new Uint8Array(16);
    mapped.set([0xff, 0xff, 10, 0, 0, 1], 10);
    expect(IPAddress.fromBytes(mapped).toString()).toBe("10.0.0.1");
    expect(() => IPAddress.fromBytes(new Uint8Array(5))).toThrow(RangeError);
  });

  it("checks values given as numbers", () => {
    expect(() => IPAddress.fromBigInt(1n << 32n, 4)).toThrow(RangeError);
    expect(IPAddress.fromBigInt((1n << 32n) - 1n, 4).toString()).toBe("255.255.255.255");
  });
});
