import { describe, expect, it } from "vitest";
import { IPAddress } from "../../../lib/ip/index.ts";
import type { RouteEntry } from "../../../lib/netlink/index.ts";
import { mappingsOfFamily } from "../../../lib/firewall/portmap/plan.ts";
import { containerAddresses, routeTo } from "../../../plugins/portmap/host.ts";

describe("the container addresses portmap forwards to", () => {
  const interfaces = [{ name: "cni0" }, { name: "veth1" }, { name: "eth0", sandbox: "/run/netns/c" }, { name: "net1", sandbox: "/run/netns/c" }];

  it("takes the first address of each family on the container's interface", () => {
    const result = {
      interfaces,
      ips: [
        { address: "10.1.0.1/24", interface: 0 },
        { address: "10.2.0.5/24", interface: 3 },
        { address: "10.1.0.5/24", interface: 2 },
        { address: "10.1.0.6/24", interface: 2 },
        { address: "fd00::5/64", interface: 2 },
      ],
    };
    expect(containerAddresses(result, "eth0")).toEqual(["10.1.0.5/24", "fd00::5/64"]);
  });

  it("counts addresses tied to no interface, or to an index past the list, as the reference", () => {
    expect(containerAddresses({ interfaces, ips: [{ address: "10.1.0.5/24" }, { address: "fd00::5/64", interface: 9 }] }, "eth0")).toEqual([
      "10.1.0.5/24",
      "fd00::5/64",
    ]);
  });

  it("finds none when prevResult has no addresses", () => {
    expect(containerAddresses({ interfaces }, "eth0")).toEqual([]);
  });
});

describe("mappings per family", () => {
  const mappings = [
    { hostPort: 1, containerPort: 1, protocol: "tcp" as const },
    { hostPort: 2, containerPort: 2, protocol: "tcp" as const, hostIP: "192.0.2.9" },
    { hostPort: 3, containerPort: 3, protocol: "tcp" as const, hostIP: "::" },
    { hostPort: 4, containerPort: 4, protocol: "tcp" as const, hostIP: "0.0.0.0" },
  ];

  it("keeps mappings of the family or without hostIP; an unspecified hostIP forwards from every address", () => {
    expect(mappingsOfFamily(mappings, 4).map((m) => [m.hostPort, m.destination])).toEqual([
      [1, undefined],
      [2, "192.0.2.9"],
      [4, undefined],
    ]);
    expect(mappingsOfFamily(mappings, 6).map((m) => [m.hostPort, m.destination])).toEqual([
      [1, undefined],
      [3, undefined],
    ]);
  });
});

describe("the host interface that routes to the container", () => {
  const route = (dst: string, index: number | undefined, type = 1): RouteEntry => ({
    family: dst.includes(":") ? 6 : 4,
    dst,
    index,
    table: 254,
    scope: 0,
    protocol: 2,
    type,
    onlink: false,
  });

  it("is the most specific unicast route's", () => {
    const routes = [route("0.0.0.0/0", 2), route("10.1.0.0/16", 3), route("10.1.2.0/24", 7), route("10.1.2.0/25", 9, 6), route("10.1.2.128/25", 8)];
    expect(routeTo(routes, IPAddress.parse("10.1.2.3"))?.index).toBe(7);
    expect(routeTo(routes, IPAddress.parse("10.9.0.1"))?.index).toBe(2);
    expect(routeTo([route("10.1.2.0/24", 7)], IPAddress.parse("192.0.2.1"))).toBeUndefined();
  });
});
