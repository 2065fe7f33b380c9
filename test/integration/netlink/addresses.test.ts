import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Address, isExists, isNotFound } from "../../../lib/netlink/index.ts";
import { ipJson } from "../../helpers/netns.ts";
import { type NetlinkNamespace, netlinkNamespace, testSubnets, thrown, vethWithCarrier } from "./namespace.ts";

interface IpAddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  broadcast?: string;
  scope: string;
  nodad?: boolean;
  tentative?: boolean;
}

let ns: NetlinkNamespace;
let index: number;
const subnets = testSubnets();
const v4 = `${subnets.v4Prefix}.5`;
const v6 = `${subnets.v6Prefix}::5`;

beforeAll(() => {
  ns = netlinkNamespace("nla");
  // With carrier, IPv6 duplicate address detection really runs.
  index = vethWithCarrier(ns, "a0");
});

afterAll(() => ns?.remove());

function ipAddresses(): IpAddrInfo[] {
  const [link] = ipJson<{ addr_info: IpAddrInfo[] }[]>(["addr", "show", "dev", "a0"], ns.netns.name);
  return link!.addr_info;
}

function find(address: string): Address | undefined {
  return ns.nl.addresses({ index }).find((a) => a.address === address);
}

describe("IPv4 addresses", () => {
  it("are added with a computed broadcast address, as `ip addr add ... brd +`", () => {
    ns.nl.addAddress({ index, address: v4, prefixLength: 24 });
    expect(find(v4)).toMatchObject({ family: 4, prefixLength: 24, scope: 0, permanent: true, broadcast: `${subnets.v4Prefix}.255`, label: "a0" });
    expect(ipAddresses()).toContainEqual(
      expect.objectContaining({ family: "inet", local: v4, prefixlen: 24, broadcast: `${subnets.v4Prefix}.255` }),
    );
  });

  it("get no broadcast address on a /31", () => {
    const address = `${subnets.v4Prefix}.100`;
    ns.nl.addAddress({ index, address, prefixLength: 31 });
    expect(find(address)?.broadcast).toBeUndefined();
    ns.nl.deleteAddress({ index, address, prefixLength: 31 });
  });

  it("are refused when already there (EEXIST), naming address and link", () => {
    const caught = thrown(() => ns.nl.addAddress({ index, address: v4, prefixLength: 24 }));
    expect(isExists(caught)).toBe(true);
    expect((caught as Error).message).toMatch(new RegExp(`^add address ${v4}/24 to a0: EEXIST \\(File exists\\)`));
  });

  it("are deleted, and deleting them again reports not found", () => {
    ns.nl.deleteAddress({ index, address: v4, prefixLength: 24 });
    expect(find(v4)).toBeUndefined();
    const caught = thrown(() => ns.nl.deleteAddress({ index, address: v4, prefixLength: 24 }));
    expect(isNotFound(caught)).toBe(true);
    expect((caught as Error).message).toMatch(new RegExp(`^delete address ${v4}/24 from a0: EADDRNOTAVAIL`));
  });
});

describe("IPv6 addresses", () => {
  it("with nodad are usable at once", () => {
    ns.nl.addAddress({ index, address: v6, prefixLength: 64, noDad: true });
    expect(find(v6)).toMatchObject({ family: 6, prefixLength: 64, noDad: true, tentative: false });
    expect(ipAddresses()).toContainEqual(expect.objectContaining({ family: "inet6", local: v6, nodad: true }));
  });

  it("without nodad start tentative while duplicate address detection runs", () => {
    const address = `${subnets.v6Prefix}::6`;
    ns.nl.addAddress({ index, address, prefixLength: 64 });
    expect(find(address)).toMatchObject({ noDad: false, tentative: true });
    ns.nl.deleteAddress({ index, address, prefixLength: 64 });
    expect(find(address)).toBeUndefined();
  });
});

describe("listing addresses", () => {
  it("filters by link and family", () => {
    const all = ns.nl.addresses();
    const peerIndex = ns.nl.linkByName("a0p")!.index;
    expect(all.some((a) => a.index === peerIndex && a.address.startsWith("fe80:"))).toBe(true);
    expect(ns.nl.addresses({ index }).every((a) => a.index === index)).toBe(true);
    expect(ns.nl.addresses({ family: 6 }).every((a) => a.family === 6)).toBe(true);
    expect(ns.nl.addresses({ index, family: 6 }).map((a) => a.address)).toContain(v6);
  });

  it("reports a missing link as not found", () => {
    expect(() => ns.nl.addAddress({ index: 999_999, address: v4, prefixLength: 24 })).toThrow(
      new RegExp(`^add address ${v4}/24 to ifindex 999999: ENODEV`),
    );
  });
});
