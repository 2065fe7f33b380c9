import { describe, expect, it } from "vitest";
import { AddressParseError, Cidr, IPAddress, isCidr } from "../../../lib/ip/index.ts";

const ip = (text: string) => IPAddress.parse(text);

describe("Cidr", () => {
  it("keeps the address as written, host bits included, like CNI results and routes", () => {
    const cidr = Cidr.parse("10.1.2.3/8");
    expect(cidr.toString()).toBe("10.1.2.3/8");
    expect(cidr.hasHostBits).toBe(true);
    expect(cidr.withoutHostBits().toString()).toBe("10.0.0.0/8");
    expect(Cidr.parse("FD00::AB/64").toString()).toBe("fd00::ab/64");
  });

  it("computes the network, last address, mask and size", () => {
    const cidr = Cidr.parse("10.1.2.77/26");
    expect(cidr.network.toString()).toBe("10.1.2.64");
    expect(cidr.lastAddress.toString()).toBe("10.1.2.127");
    expect(cidr.mask.toString()).toBe("255.255.255.192");
    expect(cidr.size).toBe(64n);
    const v6 = Cidr.parse("fd00:1::/125");
    expect(v6.lastAddress.toString()).toBe("fd00:1::7");
    expect(Cidr.parse("0.0.0.0/0").size).toBe(1n << 32n);
    expect(Cidr.parse("fd00::1/128").lastAddress.toString()).toBe("fd00::1");
  });

  it("contains the addresses of its network and of its family only", () => {
    const cidr = Cidr.parse("10.1.2.0/24");
    expect(cidr.contains(ip("10.1.2.0"))).toBe(true);
    expect(cidr.contains(ip("10.1.2.255"))).toBe(true);
    expect(cidr.contains(ip("10.1.3.0"))).toBe(false);
    expect(cidr.contains(ip("::a01:200"))).toBe(false);
    expect(Cidr.parse("::/0").contains(ip("10.0.0.1"))).toBe(false);
  });

  it("knows when two networks overlap", () => {
    expect(Cidr.parse("10.0.0.0/8").overlaps(Cidr.parse("10.1.0.0/16"))).toBe(true);
    expect(Cidr.parse("10.1.0.0/16").overlaps(Cidr.parse("10.0.0.0/8"))).toBe(true);
    expect(Cidr.parse("10.1.0.0/16").overlaps(Cidr.parse("10.2.0.0/16"))).toBe(false);
    expect(Cidr.parse("0.0.0.0/0").overlaps(Cidr.parse("::/0"))).toBe(false);
  });

  it("builds a network from an address and a prefix length", () => {
    expect(Cidr.of(ip("10.0.0.5"), 24).toString()).toBe("10.0.0.5/24");
    expect(Cidr.of(ip("10.0.0.5"), 24).equals(Cidr.parse("10.0.0.5/24"))).toBe(true);
    expect(() => Cidr.of(ip("10.0.0.5"), 33)).toThrow(RangeError);
  });

  it("treats IPv4-mapped IPv6 text as an IPv6 network, printed as Go prints its address", () => {
    const mapped = Cidr.parse("::ffff:10.0.0.0/120");
    expect(mapped.family).toBe(6);
    expect(mapped.isV4Mapped).toBe(true);
    expect(mapped.contains(ip("10.0.0.7"))).toBe(true);
    expect(mapped.toString()).toBe("10.0.0.0/120");
  });

  it.each([
    ["10.0.0.0", "no prefix length"],
    ["10.0.0.0/33", "IPv4 prefix over 32"],
    ["fd00::/129", "IPv6 prefix over 128"],
    ["10.0.0.0/", "empty prefix"],
    ["10.0.0.0/+8", "a signed prefix"],
    ["10.0.0.0/8/8", "two slashes"],
    ["10.0.0.300/8", "a bad address"],
    ["fd00::%eth0/64", "a zone"],
  ])("rejects %j (%s)", (text) => {
    expect(() => Cidr.parse(text)).toThrow(AddressParseError);
    expect(isCidr(text)).toBe(false);
  });

  it("names the valid prefix lengths in the error", () => {
    expect(() => Cidr.parse("10.0.0.0/33")).toThrow("has an invalid prefix length (IPv4 takes 0-32)");
  });
});
