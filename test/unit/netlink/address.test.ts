import { describe, expect, it } from "vitest";
import { addAddressRequest, decodeAddress, deleteAddressRequest } from "../../../lib/netlink/address.ts";
import { RTM_NEWADDR } from "../../../lib/netlink/constants.ts";
import { encodeRequest } from "../../../lib/netlink/message.ts";
import { expectSameBytesAsIproute2, hex, kernelMessages } from "./fixtures.ts";

describe("addresses encode what `ip addr` sends", () => {
  it("an IPv4 address with its computed broadcast (brd +), nodad left out for IPv4", () => {
    expectSameBytesAsIproute2(addAddressRequest({ index: 3, address: "10.1.0.5", prefixLength: 24, noDad: true }), "addr4");
  });

  it("an IPv6 address with IFA_F_NODAD", () => {
    expectSameBytesAsIproute2(addAddressRequest({ index: 3, address: "fd00::5", prefixLength: 64, noDad: true }), "addr6");
  });

  it("a deletion", () => {
    expectSameBytesAsIproute2(deleteAddressRequest({ index: 3, address: "10.1.1.5", prefixLength: 24 }), "addrdel4");
  });
});

describe("IPv4 broadcast addresses", () => {
  const broadcastOf = (address: string, prefixLength: number, broadcast?: string) => {
    const bytes = hex(encodeRequest(addAddressRequest({ index: 1, address, prefixLength, broadcast }), 1));
    const at = bytes.indexOf("08000400"); // IFA_BROADCAST
    return at === -1 ? undefined : bytes.slice(at + 8, at + 16);
  };

  it("are all host bits set, up to /30", () => {
    expect(broadcastOf("10.1.0.5", 30)).toBe("0a010007");
    expect(broadcastOf("10.1.0.5", 8)).toBe("0affffff");
    expect(broadcastOf("10.1.0.5", 0)).toBe("ffffffff");
  });

  it("are left out for /31 and /32 (RFC 3021)", () => {
    expect(broadcastOf("10.1.0.5", 31)).toBeUndefined();
    expect(broadcastOf("10.1.0.5", 32)).toBeUndefined();
  });

  it("can be given explicitly", () => {
    expect(broadcastOf("10.1.0.5", 24, "10.1.0.254")).toBe("0a0100fe");
  });
});

describe("address requests refuse bad input", () => {
  it("a prefix length beyond the family's width", () => {
    expect(() => addAddressRequest({ index: 1, address: "10.1.0.5", prefixLength: 33 })).toThrow(/invalid prefix "10.1.0.5\/33"/);
  });

  it("a malformed address", () => {
    expect(() => addAddressRequest({ index: 1, address: "10.1.0", prefixLength: 24 })).toThrow(/invalid IPv4 address "10.1.0"/);
  });
});

describe("decoding a kernel address dump", () => {
  const addresses = kernelMessages("addresses-dump")
    .filter((m) => m.type === RTM_NEWADDR)
    .map(decodeAddress);
  const find = (address: string) => addresses.find((a) => a?.address === address)!;

  it("reads IPv4 addresses with prefix, scope, label and broadcast", () => {
    expect(find("10.1.0.5")).toEqual({
      index: 2,
      family: 4,
      address: "10.1.0.5",
      prefixLength: 24,
      scope: 0,
      flags: 0x80,
      tentative: false,
      dadFailed: false,
      noDad: false,
      permanent: true,
      label: "veth0",
      broadcast: "10.1.0.255",
    });
    expect(find("10.2.0.1")).toMatchObject({ index: 3, label: "br0:web" });
    expect(find("127.0.0.1")).toMatchObject({ index: 1, prefixLength: 8, scope: 254 });
  });

  it("reads IPv6 flags: nodad, tentative", () => {
    expect(find("fd00::5")).toMatchObject({ index: 2, family: 6, prefixLength: 64, noDad: true, tentative: false });
    expect(find("fd00:2::1")).toMatchObject({ index: 3, tentative: true, noDad: false });
    expect(find("fe80::ff:fe00:1")).toMatchObject({ index: 2, scope: 253 });
  });
});
