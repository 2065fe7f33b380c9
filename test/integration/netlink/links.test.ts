import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Link, NetlinkError, Rtnetlink, isExists, isNotFound, isNotSupported } from "../../../lib/netlink/index.ts";
import { ipJson } from "../../helpers/netns.ts";
import { type NetlinkNamespace, netlinkNamespace, thrown } from "./namespace.ts";

interface IpLink {
  ifname: string;
  mtu: number;
  address: string;
  txqlen?: number;
  flags: string[];
  master?: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_data?: Record<string, unknown> };
}

let host: NetlinkNamespace;
let container: NetlinkNamespace;

beforeAll(() => {
  host = netlinkNamespace("nlh");
  container = netlinkNamespace("nlc");
});

afterAll(() => {
  host?.remove();
  container?.remove();
});

function ipLink(ns: NetlinkNamespace, name: string): IpLink {
  const [link] = ipJson<IpLink[]>(["-d", "link", "show", "dev", name], ns.netns.name);
  return link!;
}

function mustFind(nl: Rtnetlink, name: string): Link {
  const link = nl.linkByName(name);
  if (!link) throw new Error(`link ${name} not found`);
  return link;
}

/** Runs a create that this kernel may lack; returns the error when it does, after printing why. */
function createOrExplain(nl: Rtnetlink, create: () => void, feature: string): NetlinkError | undefined {
  try {
    create();
    return undefined;
  } catch (error) {
    if (!(error instanceof NetlinkError) || error.missingFeature !== feature) throw error;
    console.log(`this kernel lacks ${feature}; checked the error instead: ${error.message}`);
    return error;
  }
}

describe("veth pairs", () => {
  it("are created with the peer directly in another namespace, with mtu, mac and queue length on both ends", () => {
    host.nl.createLink({
      kind: "veth",
      name: "veth0",
      mtu: 1400,
      mac: "02:00:00:00:10:01",
      txQueueLen: 500,
      peer: { name: "eth0", netnsFd: container.handle.fd, mtu: 1400, mac: "02:00:00:00:10:02", txQueueLen: 600 },
    });

    const hostEnd = mustFind(host.nl, "veth0");
    expect(hostEnd).toMatchObject({ kind: "veth", mtu: 1400, mac: "02:00:00:00:10:01", txQueueLen: 500, up: false });
    expect(hostEnd.linkNetnsId).toBeDefined();

    const containerEnd = mustFind(container.nl, "eth0");
    expect(containerEnd).toMatchObject({ kind: "veth", mtu: 1400, mac: "02:00:00:00:10:02", txQueueLen: 600 });
    expect(hostEnd.parentIndex).toBe(containerEnd.index);
    expect(host.nl.linkByName("eth0")).toBeUndefined();
    expect(ipLink(container, "eth0")).toMatchObject({ address: "02:00:00:00:10:02", mtu: 1400 });
  });

  it("come up, and the kernel reports them running once both ends are up", () => {
    host.nl.setLink(mustFind(host.nl, "veth0").index, { up: true });
    container.nl.setLink(mustFind(container.nl, "eth0").index, { up: true });
    expect(mustFind(host.nl, "veth0")).toMatchObject({ up: true });
    expect(ipLink(host, "veth0").flags).toContain("UP");
  });

  it("are refused when the name is taken (EEXIST)", () => {
    const caught = thrown(() => host.nl.createLink({ kind: "veth", name: "veth0", peer: { name: "veth0b" } }));
    expect(isExists(caught)).toBe(true);
    expect((caught as Error).message).toBe("create veth veth0 (peer veth0b): EEXIST (File exists)");
  });
});

describe("changing links", () => {
  let index: number;

  beforeAll(() => {
    host.nl.createLink({ kind: "veth", name: "chg0", peer: { name: "chg0p" } });
    index = mustFind(host.nl, "chg0").index;
  });

  it("sets mtu, mac, queue length, promisc and allmulti", () => {
    host.nl.setLink(index, { mtu: 1300, mac: "02:00:00:00:20:01", txQueueLen: 42, promisc: true, allmulti: true });
    expect(mustFind(host.nl, "chg0")).toMatchObject({
      mtu: 1300,
      mac: "02:00:00:00:20:01",
      txQueueLen: 42,
      promisc: true,
      allmulti: true,
    });
    const seen = ipLink(host, "chg0");
    expect(seen).toMatchObject({ mtu: 1300, address: "02:00:00:00:20:01", txqlen: 42 });
    expect(seen.flags).toEqual(expect.arrayContaining(["PROMISC", "ALLMULTI"]));
  });

  it("turns promisc and allmulti off again without touching other flags", () => {
    host.nl.setLink(index, { up: true });
    host.nl.setLink(index, { promisc: false, allmulti: false });
    expect(mustFind(host.nl, "chg0")).toMatchObject({ promisc: false, allmulti: false, up: true });
  });

  it("renames a link that is down", () => {
    host.nl.setLink(index, { up: false, name: "chg1" });
    expect(host.nl.linkByName("chg0")).toBeUndefined();
    expect(mustFind(host.nl, "chg1").index).toBe(index);
  });

  it("moves a link to another namespace", () => {
    host.nl.createLink({ kind: "veth", name: "mov0", peer: { name: "mov0p" } });
    host.nl.setLink(mustFind(host.nl, "mov0").index, { netnsFd: container.handle.fd });
    expect(host.nl.linkByName("mov0")).toBeUndefined();
    expect(mustFind(container.nl, "mov0").kind).toBe("veth");
  });

  it("reports a missing link as ENODEV, by index", () => {
    const caught = thrown(() => host.nl.setLink(999_999, { up: true }));
    expect(isNotFound(caught)).toBe(true);
    expect((caught as Error).message).toBe("set link ifindex 999999 up: ENODEV (No such device)");
  });

  it("explains the kernel's refusal with its extended ack", () => {
    expect(() => host.nl.setLink(index, { mtu: 70_000 })).toThrow(/^set link chg1 mtu 70000: EINVAL \(Invalid argument\): .+/);
  });
});

describe("bridges and their ports", () => {
  let bridge: Link;
  let port: Link;

  beforeAll(() => {
    host.nl.createLink({ kind: "bridge", name: "br0", mtu: 1450, mac: "02:00:00:00:30:01" });
    host.nl.createLink({ kind: "veth", name: "port0", peer: { name: "port0p" } });
    bridge = mustFind(host.nl, "br0");
    port = mustFind(host.nl, "port0");
  });

  it("creates a bridge with mtu and mac", () => {
    expect(bridge).toMatchObject({ kind: "bridge", mtu: 1450, mac: "02:00:00:00:30:01", bridge: { vlanFiltering: false } });
    expect(ipLink(host, "br0").linkinfo?.info_kind).toBe("bridge");
  });

  it("enslaves a port to the bridge and releases it with master 0", () => {
    host.nl.setLink(port.index, { master: bridge.index });
    expect(mustFind(host.nl, "port0")).toMatchObject({ master: bridge.index, bridgePort: { hairpin: false, learning: true } });
    expect(ipLink(host, "port0").master).toBe("br0");

    host.nl.setLink(port.index, { master: 0 });
    const released = mustFind(host.nl, "port0");
    expect(released.master).toBeUndefined();
    expect(released.bridgePort).toBeUndefined();
  });

  it("sets hairpin, isolated and learning on a port", () => {
    host.nl.setLink(port.index, { master: bridge.index });
    host.nl.setBridgePort(port.index, { hairpin: true, isolated: true, learning: false });
    expect(mustFind(host.nl, "port0").bridgePort).toEqual({ hairpin: true, isolated: true, learning: false });
    expect(ipLink(host, "port0").linkinfo?.info_slave_data).toMatchObject({ hairpin: true, isolated: true, learning: false });

    host.nl.setBridgePort(port.index, { hairpin: false });
    expect(mustFind(host.nl, "port0").bridgePort).toEqual({ hairpin: false, isolated: true, learning: false });
  });

  it("creates a bridge with VLAN filtering, or says the kernel lacks it", () => {
    const error = createOrExplain(
      host.nl,
      () => host.nl.createLink({ kind: "bridge", name: "brv0", vlanFiltering: true, vlanDefaultPvid: 1 }),
      "bridge VLAN filtering",
    );
    if (error) {
      expect(isNotSupported(error)).toBe(true);
      expect(error.message).toBe("create link brv0 (bridge): kernel lacks bridge VLAN filtering support (EOPNOTSUPP)");
      expect(host.nl.linkByName("brv0")).toBeUndefined();
    } else {
      expect(mustFind(host.nl, "brv0").bridge).toEqual({ vlanFiltering: true });
    }
  });

  it("adds, lists and deletes port VLANs, or says the kernel lacks VLAN filtering", () => {
    const error = createOrExplain(
      host.nl,
      () => host.nl.addBridgeVlan(port.index, { vid: 10, pvid: true, untagged: true }),
      "bridge VLAN filtering",
    );
    if (error) {
      expect(error.message).toBe("add VLAN 10 to bridge port port0: kernel lacks bridge VLAN filtering support (EOPNOTSUPP)");
      expect(host.nl.bridgeVlans(port.index)).toEqual([]);
    } else {
      expect(host.nl.bridgeVlans(port.index)).toContainEqual({ vid: 10, pvid: true, untagged: true });
      host.nl.deleteBridgeVlan(port.index, { vid: 10 });
      expect(host.nl.bridgeVlans(port.index).map((vlan) => vlan.vid)).not.toContain(10);
    }
  });
});

describe("other link kinds", () => {
  it("creates a macvlan on a veth parent directly in another namespace", () => {
    host.nl.createLink({ kind: "veth", name: "mvpar", peer: { name: "mvparp" } });
    const parent = mustFind(host.nl, "mvpar");
    host.nl.createLink({
      kind: "macvlan",
      name: "mv0",
      parentIndex: parent.index,
      mode: "bridge",
      mtu: 1400,
      mac: "02:00:00:00:40:01",
      netnsFd: container.handle.fd,
    });
    expect(host.nl.linkByName("mv0")).toBeUndefined();
    expect(mustFind(container.nl, "mv0")).toMatchObject({
      kind: "macvlan",
      macvlan: { mode: "bridge" },
      mtu: 1400,
      mac: "02:00:00:00:40:01",
      parentIndex: parent.index,
    });
    expect(ipLink(container, "mv0").linkinfo?.info_data).toMatchObject({ mode: "bridge" });
  });

  it("names the parent when a macvlan cannot be created", () => {
    const parent = mustFind(host.nl, "mvpar");
    expect(() => host.nl.createLink({ kind: "macvlan", name: "mvpar", parentIndex: parent.index, mode: "private" })).toThrow(
      "create link mvpar (macvlan on mvpar): EEXIST (File exists)",
    );
  });

  it("creates an ifb", () => {
    host.nl.createLink({ kind: "ifb", name: "ifb9" });
    expect(mustFind(host.nl, "ifb9").kind).toBe("ifb");
  });

  it.each([
    ["vlan", () => ({ kind: "vlan", name: "vl10", parentIndex: mustFind(host.nl, "mvpar").index, vlanId: 10 }) as const],
    ["ipvlan", () => ({ kind: "ipvlan", name: "ipv0", parentIndex: mustFind(host.nl, "mvpar").index, mode: "l2" }) as const],
    ["vrf", () => ({ kind: "vrf", name: "vrf0", table: 100 }) as const],
    ["dummy", () => ({ kind: "dummy", name: "dm0" }) as const],
  ])("creates a %s link, or says the kernel lacks it", (kind, spec) => {
    const error = createOrExplain(host.nl, () => host.nl.createLink(spec()), kind);
    if (error) {
      expect(isNotSupported(error)).toBe(true);
      expect(error.message).toMatch(new RegExp(`^create link \\S+ \\(${kind}.*\\): kernel lacks ${kind} support \\(EOPNOTSUPP: Unknown device type\\)$`));
    } else {
      expect(mustFind(host.nl, spec().name).kind).toBe(kind);
    }
  });
});

describe("listing and deleting links", () => {
  it("lists every link of the namespace, and finds each by index", () => {
    const links = host.nl.links();
    const names = links.map((link) => link.name);
    expect(names).toEqual(expect.arrayContaining(["lo", "veth0", "br0", "port0", "ifb9"]));
    expect(names).not.toContain("eth0");
    for (const link of links) expect(host.nl.linkByIndex(link.index)?.name).toBe(link.name);
    expect(links.map((link) => link.name).sort()).toEqual(ipJson<IpLink[]>(["link", "show"], host.netns.name).map((l) => l.ifname).sort());
  });

  it("deletes a link, and then no longer finds it", () => {
    const ifb = mustFind(host.nl, "ifb9");
    host.nl.deleteLink(ifb.index);
    expect(host.nl.linkByName("ifb9")).toBeUndefined();
    expect(host.nl.linkByIndex(ifb.index)).toBeUndefined();
  });

  it("reports deleting a missing link as not found", () => {
    expect(() => host.nl.deleteLink(999_999)).toThrow("delete link ifindex 999999: ENODEV (No such device)");
  });
});

describe("bridge requests on a link that is no bridge port", () => {
  it("say so instead of blaming the kernel", () => {
    const loopback = mustFind(host.nl, "lo");
    expect(() => host.nl.setBridgePort(loopback.index, { hairpin: true })).toThrow(
      "set bridge port lo hairpin on: lo is not a bridge port: EOPNOTSUPP (Operation not supported)",
    );
    const error = thrown(() => host.nl.addBridgeVlan(loopback.index, { vid: 10 }));
    expect(error).toBeInstanceOf(NetlinkError);
    expect((error as NetlinkError).missingFeature).toBeUndefined();
    expect((error as Error).message).toBe("add VLAN 10 to bridge port lo: lo is not a bridge port: EOPNOTSUPP (Operation not supported)");
  });
});
