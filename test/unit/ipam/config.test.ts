import { describe, expect, it } from "vitest";
import { normalizeIpamConfig, type HostLocalInput, type IpamInput } from "../../../lib/ipam/index.ts";

function normalize(ipam: IpamInput, extra: Partial<HostLocalInput> = {}) {
  return normalizeIpamConfig({ name: "net1", cniVersion: "1.0.0", ipam, ...extra });
}

/** The first (and only) range of each range set, as text. */
function summary(ipam: IpamInput, extra: Partial<HostLocalInput> = {}) {
  return normalize(ipam, extra).rangeSets.map((set) =>
    set.ranges.map((range) => `${range.subnet} ${range.rangeStart}-${range.rangeEnd} gw ${range.gateway}`),
  );
}

function expectInvalid(ipam: IpamInput, message: string, extra: Partial<HostLocalInput> = {}, code = 7) {
  expect(() => normalize(ipam, extra)).toThrow(expect.objectContaining({ code, message: expect.stringContaining(message) }));
}

describe("host-local configuration defaults", () => {
  it("starts an IPv4 range after the network address and ends it before the broadcast address", () => {
    expect(summary({ ranges: [[{ subnet: "10.1.0.0/24" }]] })).toEqual([["10.1.0.0/24 10.1.0.1-10.1.0.254 gw 10.1.0.1"]]);
  });

  it("ends an IPv6 range at the last address of the subnet", () => {
    expect(summary({ ranges: [[{ subnet: "FD00:1::/120" }]] })).toEqual([["fd00:1::/120 fd00:1::1-fd00:1::ff gw fd00:1::1"]]);
  });

  it("keeps the given start, end and gateway, in canonical form", () => {
    expect(
      summary({
        ranges: [[{ subnet: "10.1.0.0/24", rangeStart: "10.1.0.50", rangeEnd: "10.1.0.60", gateway: "::ffff:10.1.0.254" }]],
      }),
    ).toEqual([["10.1.0.0/24 10.1.0.50-10.1.0.60 gw 10.1.0.254"]]);
  });

  it("treats null and empty start, end and gateway as not set, as the reference does", () => {
    expect(summary({ ranges: [[{ subnet: "10.1.0.0/30", rangeStart: "", rangeEnd: null, gateway: "" }]] })).toEqual([
      ["10.1.0.0/30 10.1.0.1-10.1.0.2 gw 10.1.0.1"],
    ]);
  });

  it("accepts a gateway outside the subnet and a range end on the broadcast address, as the reference does", () => {
    expect(summary({ ranges: [[{ subnet: "10.1.0.0/24", rangeEnd: "10.1.0.255", gateway: "10.2.0.1" }]] })).toEqual([
      ["10.1.0.0/24 10.1.0.1-10.1.0.255 gw 10.2.0.1"],
    ]);
  });

  it("puts ipRanges first, then the legacy single range, then ipam.ranges", () => {
    const sets = summary(
      {
        subnet: "10.2.0.0/24",
        rangeStart: "10.2.0.10",
        rangeEnd: "10.2.0.20",
        gateway: "10.2.0.254",
        ranges: [[{ subnet: "10.3.0.0/24" }], [{ subnet: "fd00:3::/64" }]],
      },
      { ipRanges: [[{ subnet: "10.1.0.0/24" }]] },
    );
    expect(sets.map((set) => set[0]!.split(" ")[0])).toEqual(["10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24", "fd00:3::/64"]);
    expect(sets[1]).toEqual(["10.2.0.0/24 10.2.0.10-10.2.0.20 gw 10.2.0.254"]);
  });

  it("keeps several ranges of one family in a range set", () => {
    expect(summary({ ranges: [[{ subnet: "10.1.0.0/30" }, { subnet: "10.9.0.0/30" }]] })).toEqual([
      ["10.1.0.0/30 10.1.0.1-10.1.0.2 gw 10.1.0.1", "10.9.0.0/30 10.9.0.1-10.9.0.2 gw 10.9.0.1"],
    ]);
  });

  it("defaults dataDir to /var/lib/cni/networks and reads the network name, routes and resolvConf", () => {
    const config = normalize({
      ranges: [[{ subnet: "10.1.0.0/24" }]],
      resolvConf: "/etc/resolv.conf",
      routes: [{ dst: "0.0.0.0/0" }, { dst: "10.9.9.9/8", gw: "::ffff:10.1.0.1", mtu: 1400 }, { dst: "FD00::/8", gw: "" }],
    });
    expect(config.network).toBe("net1");
    expect(config.dataDir).toBe("/var/lib/cni/networks");
    expect(config.resolvConf).toBe("/etc/resolv.conf");
    // Host bits stay, text becomes canonical, an empty gw is no gw: all as the reference prints them.
    expect(config.routes).toEqual([{ dst: "0.0.0.0/0" }, { dst: "10.9.9.9/8", gw: "10.1.0.1", mtu: 1400 }, { dst: "fd00::/8" }]);
    expect(normalize({ ranges: [[{ subnet: "10.1.0.0/24" }]], dataDir: "/run/ipam" }).dataDir).toBe("/run/ipam");
    expect(normalize({ ranges: [[{ subnet: "10.1.0.0/24" }]], dataDir: "" }).dataDir).toBe("/var/lib/cni/networks");
  });
});

describe("host-local configuration errors (code 7 naming field and value)", () => {
  it.each([
    ["10.0.0.0/33", "has an invalid prefix length"],
    ["10.0.0.0", "is not in CIDR notation"],
    ["10.0.0.300/24", "is not a valid IPv4 address"],
  ])("rejects the subnet %j", (subnet, reason) => {
    expectInvalid(
      { ranges: [[{ subnet: "10.9.0.0/24" }, { subnet }]] },
      `invalid config: ipam.ranges[0][1].subnet=${JSON.stringify(subnet)}: ${reason}`,
    );
  });

  it("rejects a subnet too small to allocate from", () => {
    expectInvalid({ ranges: [[{ subnet: "10.0.0.0/31" }]] }, 'ipam.ranges[0][0].subnet="10.0.0.0/31": too small to allocate from');
    expectInvalid({ ranges: [[{ subnet: "fd00::/127" }]] }, 'ipam.ranges[0][0].subnet="fd00::/127": too small to allocate from');
  });

  it("rejects a subnet with host bits, naming the network address", () => {
    expectInvalid(
      { ranges: [[{ subnet: "10.0.0.1/24" }]] },
      'ipam.ranges[0][0].subnet="10.0.0.1/24": has host bits set: the network address for /24 is 10.0.0.0',
    );
  });

  it("rejects an IPv4-mapped IPv6 subnet, suggesting the IPv4 one", () => {
    expectInvalid({ ranges: [[{ subnet: "::ffff:10.0.0.0/120" }]] }, "write it as the IPv4 subnet 10.0.0.0/24");
  });

  it.each(["rangeStart", "rangeEnd", "gateway"] as const)("rejects a %s that is not an address", (key) => {
    expectInvalid({ ranges: [[{ subnet: "10.0.0.0/24", [key]: "10.0.0.300" }]] }, `ipam.ranges[0][0].${key}="10.0.0.300": is not a valid IPv4 address`);
  });

  it.each(["rangeStart", "rangeEnd", "gateway"] as const)("rejects a %s of the other family", (key) => {
    expectInvalid({ ranges: [[{ subnet: "10.0.0.0/24", [key]: "fd00::1" }]] }, `ipam.ranges[0][0].${key}="fd00::1": is an IPv6 address in the IPv4 subnet 10.0.0.0/24`);
  });

  it.each(["rangeStart", "rangeEnd"] as const)("rejects a %s outside the subnet", (key) => {
    expectInvalid({ ranges: [[{ subnet: "10.0.0.0/24", [key]: "10.0.1.5" }]] }, `ipam.ranges[0][0].${key}="10.0.1.5": not in subnet 10.0.0.0/24`);
  });

  it("rejects a range that starts after it ends", () => {
    expectInvalid(
      { ranges: [[{ subnet: "10.0.0.0/24", rangeStart: "10.0.0.100", rangeEnd: "10.0.0.50" }]] },
      'ipam.ranges[0][0].rangeStart="10.0.0.100": is after rangeEnd 10.0.0.50',
    );
    // A start on the broadcast address is after the default end.
    expectInvalid({ ranges: [[{ subnet: "10.0.0.0/24", rangeStart: "10.0.0.255" }]] }, "is after rangeEnd 10.0.0.254");
  });

  it("rejects a range set mixing families", () => {
    expectInvalid(
      { ranges: [[{ subnet: "10.0.0.0/24" }, { subnet: "fd00::/64" }]] },
      'ipam.ranges[0][1].subnet="fd00::/64": range set 0 mixes IPv4 and IPv6',
    );
  });

  it("rejects overlapping ranges within a range set", () => {
    expectInvalid(
      { ranges: [[{ subnet: "10.0.0.0/24" }, { subnet: "10.0.0.0/25" }]] },
      'ipam.ranges[0][1]={"subnet":"10.0.0.0/25"}: range 10.0.0.1-10.0.0.126 overlaps 10.0.0.1-10.0.0.254 (ipam.ranges[0][0])',
    );
  });

  it("accepts ranges of one subnet that do not overlap", () => {
    expect(
      summary({
        ranges: [
          [
            { subnet: "10.0.0.0/24", rangeStart: "10.0.0.10", rangeEnd: "10.0.0.19" },
            { subnet: "10.0.0.0/24", rangeStart: "10.0.0.20", rangeEnd: "10.0.0.29" },
          ],
        ],
      }),
    ).toHaveLength(1);
  });

  it("rejects range sets that overlap each other", () => {
    expectInvalid(
      { ranges: [[{ subnet: "10.0.0.0/24" }], [{ subnet: "fd00::/64" }], [{ subnet: "10.0.0.128/25" }]] },
      "ipam.ranges[2]=[{\"subnet\":\"10.0.0.128/25\"}]: range set 2 (10.0.0.129-10.0.0.254) overlaps range set 0 (10.0.0.1-10.0.0.254, from ipam.ranges[0])",
    );
  });

  it("names ipRanges and the legacy keys when they are the problem", () => {
    expectInvalid({ ranges: [[{ subnet: "10.0.0.0/24" }]] }, 'runtimeConfig.ipRanges[0][0].subnet="10.1.0.1/24"', {
      ipRanges: [[{ subnet: "10.1.0.1/24" }]],
    });
    expectInvalid({ subnet: "10.0.0.0/24", rangeStart: "10.1.0.1" }, 'ipam.rangeStart="10.1.0.1": not in subnet 10.0.0.0/24');
    expectInvalid({ subnet: "" }, 'ipam.subnet="": is not in CIDR notation');
  });

  it("rejects an empty range set", () => {
    expectInvalid({ ranges: [[]] }, "invalid config: ipam.ranges[0]=[]: empty range set");
  });

  it("rejects a configuration without ranges", () => {
    expectInvalid({}, "invalid config: ipam.ranges=(missing): no IP ranges specified");
    expectInvalid({ ranges: [] }, "invalid config: ipam.ranges=[]: no IP ranges specified");
  });

  it("rejects a route whose destination or gateway is not an address", () => {
    const ranges = [[{ subnet: "10.0.0.0/24" }]];
    expectInvalid({ ranges, routes: [{ dst: "1.2.3.4" }] }, 'ipam.routes[0].dst="1.2.3.4": is not in CIDR notation');
    expectInvalid({ ranges, routes: [{ dst: "0.0.0.0/0", gw: "x" }] }, 'ipam.routes[0].gw="x": is not a valid IP address');
    expectInvalid({ ranges, routes: [{ dst: "::ffff:10.0.0.0/104" }] }, "write it in IPv4 notation");
  });

  it("refuses two addresses of one family for CNI 0.2.0 and older (code 1)", () => {
    const ipam = { ranges: [[{ subnet: "10.0.0.0/24" }], [{ subnet: "10.1.0.0/24" }]] };
    expectInvalid(ipam, "CNI version 0.2.0 does not support more than one IPv4 address", { cniVersion: "0.2.0" }, 1);
    expect(normalize(ipam, { cniVersion: "0.3.0" }).rangeSets).toHaveLength(2);
    expect(normalize({ ranges: [[{ subnet: "10.0.0.0/24" }], [{ subnet: "fd00::/64" }]] }, { cniVersion: "0.1.0" }).rangeSets).toHaveLength(2);
  });
});
