import { describe, expect, it } from "vitest";
import { RTM_NEWLINK } from "../../../lib/netlink/constants.ts";
import { NetlinkError } from "../../../lib/netlink/errors.ts";
import { decodeLink, deleteLinkRequest, describeLinkChange, setLinkRequest } from "../../../lib/netlink/link.ts";
import { createLinkRequest, describeNewLink, explainCreateFailure } from "../../../lib/netlink/link-create.ts";
import { encodeRequest } from "../../../lib/netlink/message.ts";
import { expectSameBytesAsIproute2, hex, kernelMessages } from "./fixtures.ts";

// Indexes and the namespace fd (4) are the ones iproute2 used when its requests were captured.
const NETNS_FD = 4;
const PARENT = 3;

describe("creating links encodes what iproute2 sends", () => {
  it("veth with the peer created directly in another namespace", () => {
    const req = createLinkRequest({
      kind: "veth",
      name: "veth1",
      mtu: 1400,
      mac: "02:00:00:00:00:01",
      txQueueLen: 500,
      peer: { name: "eth0", mtu: 1400, mac: "02:00:00:00:00:02", netnsFd: NETNS_FD },
    });
    expectSameBytesAsIproute2(req, "veth");
  });

  it("bridge with VLAN filtering and a default PVID", () => {
    const req = createLinkRequest({
      kind: "bridge",
      name: "br0",
      mtu: 1500,
      mac: "02:00:00:00:00:03",
      vlanFiltering: true,
      vlanDefaultPvid: 1,
    });
    expectSameBytesAsIproute2(req, "bridge");
  });

  it("macvlan in bridge mode, created in another namespace", () => {
    const req = createLinkRequest({
      kind: "macvlan",
      name: "mv0",
      parentIndex: PARENT,
      mode: "bridge",
      mtu: 1400,
      mac: "02:00:00:00:00:04",
      netnsFd: NETNS_FD,
    });
    expectSameBytesAsIproute2(req, "macvlan");
  });

  it("macvlan with a broadcast queue length", () => {
    const req = createLinkRequest({
      kind: "macvlan",
      name: "mv0",
      parentIndex: PARENT,
      mode: "bridge",
      bcQueueLen: 321,
      mtu: 1400,
      mac: "02:00:00:00:00:04",
      netnsFd: NETNS_FD,
    });
    expectSameBytesAsIproute2(req, "macvlan-bcqueuelen");
  });

  it("ipvlan in l3 mode with the private flag, created in another namespace", () => {
    const req = createLinkRequest({
      kind: "ipvlan",
      name: "ipv0",
      parentIndex: PARENT,
      mode: "l3",
      flags: "private",
      mtu: 1400,
      netnsFd: NETNS_FD,
    });
    expectSameBytesAsIproute2(req, "ipvlan");
  });

  it("vlan with its id, created in another namespace", () => {
    const req = createLinkRequest({ kind: "vlan", name: "vl10", parentIndex: PARENT, vlanId: 10, mtu: 1400, netnsFd: NETNS_FD });
    expectSameBytesAsIproute2(req, "vlan");
  });

  it("dummy, ifb and vrf", () => {
    expectSameBytesAsIproute2(createLinkRequest({ kind: "dummy", name: "dm0" }), "dummy");
    expectSameBytesAsIproute2(createLinkRequest({ kind: "ifb", name: "ifb0" }), "ifb");
    expectSameBytesAsIproute2(createLinkRequest({ kind: "vrf", name: "vrf0", table: 100 }), "vrf");
  });
});

describe("creating links, beyond what was captured from iproute2", () => {
  it("leaves VLAN filtering out of a bridge unless it is turned on", () => {
    const req = createLinkRequest({ kind: "bridge", name: "br0", vlanFiltering: false });
    // IFLA_IFNAME "br0", then IFLA_LINKINFO holding only IFLA_INFO_KIND "bridge"
    expect(hex(encodeRequest(req, 1)).slice(64)).toBe("0800030062723000" + "10001200" + "0a000100627269646765" + "0000");
  });

  it("sends no IFLA_INFO_DATA for a macvlan without a mode (the kernel's default, vepa)", () => {
    const req = createLinkRequest({ kind: "macvlan", name: "mv0", parentIndex: 7 });
    // IFLA_LINK 7, IFLA_IFNAME "mv0", IFLA_LINKINFO holding only IFLA_INFO_KIND "macvlan"
    expect(hex(encodeRequest(req, 1)).slice(64)).toBe(
      "0800050007000000" + "080003006d763000" + "10001200" + "0b0001006d6163766c616e00",
    );
  });
});

describe("changing and deleting links encodes what iproute2 sends", () => {
  it("mtu, address, txqueuelen, promisc, master and up in one request", () => {
    const req = setLinkRequest(9, {
      mtu: 1400,
      mac: "02:00:00:00:00:0a",
      txQueueLen: 700,
      promisc: true,
      master: 8,
      up: true,
    });
    expectSameBytesAsIproute2(req, "setlink");
  });

  it("allmulticast", () => {
    expectSameBytesAsIproute2(setLinkRequest(9, { allmulti: true }), "allmulti");
  });

  it("down and rename", () => {
    expectSameBytesAsIproute2(setLinkRequest(2, { up: false, name: "vq" }), "rename");
  });

  it("nomaster (master 0)", () => {
    expectSameBytesAsIproute2(setLinkRequest(3, { master: 0 }), "nomaster");
  });

  it("move to another namespace", () => {
    expectSameBytesAsIproute2(setLinkRequest(2, { netnsFd: NETNS_FD }), "setns");
  });

  it("delete", () => {
    expectSameBytesAsIproute2(deleteLinkRequest(4), "dellink");
  });
});

describe("decoding a kernel link dump", () => {
  const links = kernelMessages("links-dump")
    .filter((m) => m.type === RTM_NEWLINK)
    .map(decodeLink);
  const byName = (name: string) => links.find((link) => link.name === name)!;

  it("lists every link with its index and name", () => {
    expect(links.map((link) => [link.index, link.name])).toEqual([
      [1, "lo"],
      [2, "veth0"],
      [3, "br0"],
      [4, "port0p"],
      [5, "port0"],
      [6, "mv0"],
      [7, "ifb0"],
    ]);
  });

  it("decodes flags, state, mtu, mac and queue length", () => {
    expect(byName("veth0")).toMatchObject({
      kind: "veth",
      up: true,
      operState: "up",
      mtu: 1400,
      mac: "02:00:00:00:00:01",
      txQueueLen: 500,
      promisc: false,
      allmulti: false,
    });
    expect(byName("ifb0")).toMatchObject({ kind: "ifb", up: false, operState: "down", txQueueLen: 32 });
    expect(byName("lo").kind).toBeUndefined();
  });

  it("gives a veth whose peer is in another namespace that namespace's id and the peer's index", () => {
    expect(byName("veth0")).toMatchObject({ parentIndex: 2, linkNetnsId: 0 });
    expect(byName("port0").linkNetnsId).toBeUndefined();
    expect(byName("port0").parentIndex).toBe(byName("port0p").index);
  });

  it("decodes bridge data and bridge port settings with the master's index", () => {
    expect(byName("br0").bridge).toEqual({ vlanFiltering: false });
    expect(byName("port0")).toMatchObject({
      master: byName("br0").index,
      bridgePort: { hairpin: true, isolated: true, learning: false },
    });
    expect(byName("veth0").bridgePort).toBeUndefined();
  });

  it("decodes a macvlan's mode and parent", () => {
    expect(byName("mv0")).toMatchObject({ kind: "macvlan", macvlan: { mode: "private" }, parentIndex: byName("port0p").index });
  });
});

describe("words for link operations", () => {
  const nameOf = (index: number) => (index === 3 ? "eth0" : `ifindex ${index}`);

  it("name a veth and where its peer goes", () => {
    const spec = { kind: "veth", name: "veth1234", peer: { name: "eth0", netnsFd: 5 } } as const;
    expect(describeNewLink(spec, nameOf)).toBe("create veth veth1234 (peer eth0 in netns)");
  });

  it("name other kinds with their parent", () => {
    expect(describeNewLink({ kind: "bridge", name: "br0" }, nameOf)).toBe("create link br0 (bridge)");
    expect(describeNewLink({ kind: "macvlan", name: "mv0", parentIndex: 3, netnsFd: 5 }, nameOf)).toBe(
      "create link mv0 (macvlan on eth0) in netns",
    );
  });

  it("list the changes of a set", () => {
    expect(describeLinkChange({ up: true, mtu: 1400, master: 0 })).toBe("up, mtu 1400, nomaster");
  });

  it("turn the kernel's 'Unknown device type' into the kind it lacks", () => {
    const error = new NetlinkError("create link vl10 (vlan on eth0)", 95, "Unknown device type");
    const explained = explainCreateFailure({ kind: "vlan", name: "vl10", parentIndex: 3, vlanId: 10 }, error);
    expect(explained.missingFeature).toBe("vlan");
    expect(explained.message).toBe(
      "create link vl10 (vlan on eth0): kernel lacks vlan support (EOPNOTSUPP: Unknown device type)",
    );
  });

  it("turn a bare EOPNOTSUPP for a VLAN-filtering bridge into missing bridge VLAN filtering", () => {
    const error = new NetlinkError("create link br0 (bridge)", 95);
    const explained = explainCreateFailure({ kind: "bridge", name: "br0", vlanFiltering: true }, error);
    expect(explained.message).toBe("create link br0 (bridge): kernel lacks bridge VLAN filtering support (EOPNOTSUPP)");
  });

  it("leave other failures as they are", () => {
    const error = new NetlinkError("create link br0 (bridge)", 17);
    expect(explainCreateFailure({ kind: "bridge", name: "br0" }, error)).toBe(error);
  });
});
