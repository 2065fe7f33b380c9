import { describe, expect, it } from "vitest";
import { parseInterfaceAddress, parseInterfaceAddresses } from "../../../lib/firewall/address.ts";

describe("container addresses", () => {
  it("gives the host route and subnet of an IPv4 address", () => {
    expect(parseInterfaceAddress("10.1.2.3/24")).toEqual({ family: 4, ip: "10.1.2.3", host: "10.1.2.3/32", subnet: "10.1.2.0/24" });
  });

  it("writes IPv6 addresses the way iptables-save and nft print them", () => {
    expect(parseInterfaceAddress("2001:0db8:0:0:1:0:0:1/64")).toEqual({
      family: 6,
      ip: "2001:db8::1:0:0:1",
      host: "2001:db8::1:0:0:1/128",
      subnet: "2001:db8::/64",
    });
  });

  it("rejects an address without a prefix length, naming the entry (code 7)", () => {
    expect(() => parseInterfaceAddresses(["10.1.2.3/24", "10.1.2.4"])).toThrow(
      expect.objectContaining({ code: 7, message: expect.stringContaining('addresses[1]="10.1.2.4"') }),
    );
  });

  it("refuses an IPv4-mapped IPv6 address rather than guess its family (code 7)", () => {
    expect(() => parseInterfaceAddress("::ffff:10.1.2.3/120")).toThrow(
      expect.objectContaining({ code: 7, message: expect.stringContaining("IPv4-mapped") }),
    );
  });

  it("rejects what is not an address (code 7)", () => {
    expect(() => parseInterfaceAddress("10.1.2.300/24")).toThrow(expect.objectContaining({ code: 7 }));
    expect(() => parseInterfaceAddress("fd00::/129")).toThrow(expect.objectContaining({ code: 7 }));
  });
});
