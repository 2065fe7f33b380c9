import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IPAddress } from "../../../lib/ip/index.ts";
import {
  allocateAll,
  checkAttachment,
  collectGarbage,
  exhaustedRangeSets,
  HostLocalStore,
  normalizeIpamConfig,
  toIPConfig,
  type IpamInput,
} from "../../../lib/ipam/index.ts";
import { CniError, ErrorCode } from "../../../lib/core/index.ts";

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "hostlocal-ops-"));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const alice = { containerId: "alice", ifname: "eth0" };
const bob = { containerId: "bob", ifname: "eth0" };

function configOf(ipam: IpamInput) {
  return normalizeIpamConfig({ name: "net1", cniVersion: "1.0.0", ipam: { dataDir, ...ipam } });
}

/** A request plan asking for nothing in particular. */
const anyAddress = { perRangeSet: [], leftover: undefined };

const dualStack = configOf({ ranges: [[{ subnet: "10.0.0.0/29" }], [{ subnet: "fd00::/125" }]] });

function withStore<T>(body: (store: HostLocalStore) => T): T {
  const store = HostLocalStore.open(dataDir, "net1");
  try {
    return body(store);
  } finally {
    store.close();
  }
}

const leaseFiles = () => readdirSync(join(dataDir, "net1")).filter((name) => IPAddress.tryParse(name)).sort();

describe("ADD on the store", () => {
  it("allocates one address per range set, in order", () => {
    const ips = withStore((store) => allocateAll(store, dualStack, alice, anyAddress).map(toIPConfig));
    expect(ips).toEqual([
      { address: "10.0.0.2/29", gateway: "10.0.0.1" },
      { address: "fd00::2/125", gateway: "fd00::1" },
    ]);
  });

  it("releases what it reserved when a later range set fails, and keeps earlier leases", () => {
    withStore((store) => allocateAll(store, configOf({ ranges: [[{ subnet: "10.0.1.0/29" }]] }), alice, anyAddress));
    const taken = IPAddress.parse("fd00::5");
    withStore((store) => store.reserve(taken, bob, 1));
    expect(() => withStore((store) => allocateAll(store, dualStack, alice, { perRangeSet: [undefined, taken], leftover: undefined }))).toThrow(expect.objectContaining({ code: 105 }));
    expect(leaseFiles()).toEqual(["10.0.1.2", "fd00::5"]);
  });
  it("raises a refused request after allocating, as the reference does, moving last_reserved_ip alike", () => {
    const refused = new CniError(ErrorCode.InvalidConfig, "not in any range set");
    expect(() => withStore((store) => allocateAll(store, dualStack, alice, { perRangeSet: [], leftover: refused }))).toThrow(refused);
    expect(leaseFiles()).toEqual([]);
    expect(readFileSync(join(dataDir, "net1", "last_reserved_ip.1"), "latin1")).toBe("fd00::2");
  });

  it("raises a refused request of a range set at that range set's turn", () => {
    const refused = new CniError(ErrorCode.InvalidConfig, "gateway");
    expect(() => withStore((store) => allocateAll(store, dualStack, alice, { perRangeSet: [undefined, refused], leftover: undefined }))).toThrow(refused);
    expect(leaseFiles()).toEqual([]);
    expect(readFileSync(join(dataDir, "net1", "last_reserved_ip.0"), "latin1")).toBe("10.0.0.2");
    expect(existsSync(join(dataDir, "net1", "last_reserved_ip.1"))).toBe(false);
  });
});

describe("CHECK on the store", () => {
  it("passes when the attachment holds an address of every range set", () => {
    withStore((store) => allocateAll(store, dualStack, alice, anyAddress));
    withStore((store) => checkAttachment(store, dualStack, alice));
  });

  it("fails with code 104 naming each range set the attachment has no address from", () => {
    withStore((store) => store.reserve(IPAddress.parse("10.0.0.3"), alice, 0));
    expect(() => withStore((store) => checkAttachment(store, dualStack, alice))).toThrow(
      expect.objectContaining({ code: 104, message: expect.stringContaining("container alice interface eth0 holds no address from range set 1 (fd00::1-fd00::7)") }),
    );
    expect(() => withStore((store) => checkAttachment(store, dualStack, bob))).toThrow(
      expect.objectContaining({ code: 104, message: expect.stringContaining("range set 0 (10.0.0.1-10.0.0.6), range set 1") }),
    );
  });
});

describe("GC on the store", () => {
  it("releases leases of attachments not listed and keeps the listed ones", () => {
    withStore((store) => {
      allocateAll(store, dualStack, alice, anyAddress);
      allocateAll(store, dualStack, bob, anyAddress);
      allocateAll(store, dualStack, { containerId: "alice", ifname: "eth1" }, anyAddress);
    });
    const released = withStore((store) => collectGarbage(store, [alice]));
    expect(released.map(({ name }) => name).sort()).toEqual(["10.0.0.3", "10.0.0.4", "fd00::3", "fd00::4"]);
    expect(leaseFiles()).toEqual(["10.0.0.2", "fd00::2"]);
    // The index followed: bob's DEL finds nothing, alice's still finds hers.
    withStore((store) => {
      expect(store.release(bob)).toEqual([]);
      expect(store.release(alice).map(String).sort()).toEqual(["10.0.0.2", "fd00::2"]);
    });
  });

  it("keeps a lease in the oldest format while its container has a listed attachment", () => {
    withStore((store) => store.reserve(IPAddress.parse("10.0.0.2"), alice, 0));
    const networkDir = join(dataDir, "net1");
    writeFileSync(join(networkDir, "10.0.0.2"), "alice");
    writeFileSync(join(networkDir, "10.0.0.3"), "carol");
    expect(withStore((store) => collectGarbage(store, [{ containerId: "alice", ifname: "eth9" }])).map(({ name }) => name)).toEqual(["10.0.0.3"]);
  });
});

describe("STATUS on the store", () => {
  it("finds no exhausted range set while any address is free", () => {
    withStore((store) => {
      for (const n of [2, 3, 4, 5]) store.reserve(IPAddress.parse(`10.0.0.${n}`), alice, 0);
      expect(exhaustedRangeSets(dualStack, store.reservedAddresses())).toEqual([]);
    });
  });

  it("names the range set whose every allocatable address is reserved", () => {
    withStore((store) => {
      for (const n of [2, 3, 4, 5, 6]) store.reserve(IPAddress.parse(`10.0.0.${n}`), alice, 0);
      expect(exhaustedRangeSets(dualStack, store.reservedAddresses())).toEqual([0]);
    });
  });

  it("does not count a lease on the gateway, which the allocator never hands out", () => {
    withStore((store) => {
      for (const n of [1, 2, 3, 4, 5]) store.reserve(IPAddress.parse(`10.0.0.${n}`), alice, 0);
      expect(exhaustedRangeSets(dualStack, store.reservedAddresses())).toEqual([]);
    });
  });
});
