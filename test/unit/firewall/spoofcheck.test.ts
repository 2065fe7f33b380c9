import { describe, expect, it } from "vitest";
import { parseNftListing } from "../../../lib/firewall/nftables/listing.ts";
import {
  missingSpoofCheck,
  nftablesSpoofCheck,
  spoofCheckSetupScript,
  spoofCheckTeardownScript,
} from "../../../lib/firewall/spoofcheck/nftables.ts";
import { FakeExecutor } from "./fake-executor.ts";

const request = { containerId: "ctr1", ifname: "eth0", hostInterface: "veth1a2b3c4d", containerMac: "0A:58:0A:01:00:05" };
const COMMENT = 'comment "macspoofchk-ctr1-eth0"';

/** `nft -j list table bridge nat` as nft 1.0.6 prints the reference's layout for `request` (plus another attachment's jump). */
function listing(options: { withDrop?: boolean; otherJump?: boolean } = {}): string {
  const rule = (chain: string, handle: number, expr: unknown[], comment = "macspoofchk-ctr1-eth0") => ({
    rule: { family: "bridge", table: "nat", chain, handle, comment, expr },
  });
  const chain = (name: string, handle: number, hook?: object) => ({ chain: { family: "bridge", table: "nat", name, handle, ...hook } });
  return JSON.stringify({
    nftables: [
      { metainfo: { version: "1.0.6", release_name: "Lester Gooch #5", json_schema_version: 1 } },
      { table: { family: "bridge", name: "nat", handle: 3 } },
      chain("PREROUTING", 1, { type: "filter", hook: "prerouting", prio: -300, policy: "accept" }),
      chain("cni-br-iface-ctr1-eth0", 2),
      chain("cni-br-iface-ctr1-eth0-mac", 3),
      rule("PREROUTING", 4, [{ match: { op: "==", left: { meta: { key: "iifname" } }, right: "veth1a2b3c4d" } }, { jump: { target: "cni-br-iface-ctr1-eth0" } }]),
      ...(options.otherJump
        ? [rule("PREROUTING", 9, [{ match: { op: "==", left: { meta: { key: "iifname" } }, right: "veth99" } }, { jump: { target: "cni-br-iface-ctr2-eth0" } }], "macspoofchk-ctr2-eth0")]
        : []),
      rule("cni-br-iface-ctr1-eth0", 5, [{ jump: { target: "cni-br-iface-ctr1-eth0-mac" } }]),
      rule("cni-br-iface-ctr1-eth0-mac", 6, [{ match: { op: "==", left: { payload: { protocol: "ether", field: "saddr" } }, right: "0a:58:0a:01:00:05" } }, { return: null }]),
      ...(options.withDrop === false ? [] : [rule("cni-br-iface-ctr1-eth0-mac", 7, [{ drop: null }])]),
    ],
  });
}

describe("MAC spoof check scripts", () => {
  it("sets up the reference's table, chains and rules in one transaction", () => {
    expect(spoofCheckSetupScript(request, []).text()).toBe(
      [
        "add table bridge nat",
        "add chain bridge nat PREROUTING { type filter hook prerouting priority -300 ; }",
        "add chain bridge nat cni-br-iface-ctr1-eth0",
        "add chain bridge nat cni-br-iface-ctr1-eth0-mac",
        "flush chain bridge nat cni-br-iface-ctr1-eth0",
        "flush chain bridge nat cni-br-iface-ctr1-eth0-mac",
        `add rule bridge nat PREROUTING meta iifname == "veth1a2b3c4d" jump cni-br-iface-ctr1-eth0 ${COMMENT}`,
        `add rule bridge nat cni-br-iface-ctr1-eth0 jump cni-br-iface-ctr1-eth0-mac ${COMMENT}`,
        `add rule bridge nat cni-br-iface-ctr1-eth0-mac ether saddr == 0a:58:0a:01:00:05 return ${COMMENT}`,
        `add rule bridge nat cni-br-iface-ctr1-eth0-mac drop ${COMMENT}`,
        "",
      ].join("\n"),
    );
  });

  it("replaces the attachment's earlier PREROUTING rule, found by its comment, and no other", () => {
    const executor = new FakeExecutor({ "nft -j list table bridge nat": { stdout: listing({ otherJump: true }) } });
    nftablesSpoofCheck(executor).setup(request);
    const [script] = executor.scripts("nft");
    expect(script).toContain("delete rule bridge nat PREROUTING handle 4\n");
    expect(script).not.toContain("handle 9");
  });

  it("tears down the PREROUTING rule and both chains, emptied first", () => {
    expect(spoofCheckTeardownScript(parseNftListing(listing({ otherJump: true })), request).text()).toBe(
      [
        "delete rule bridge nat PREROUTING handle 4",
        "flush chain bridge nat cni-br-iface-ctr1-eth0",
        "delete chain bridge nat cni-br-iface-ctr1-eth0",
        "flush chain bridge nat cni-br-iface-ctr1-eth0-mac",
        "delete chain bridge nat cni-br-iface-ctr1-eth0-mac",
        "",
      ].join("\n"),
    );
  });

  it("runs nothing on teardown when the table or the attachment is gone", () => {
    const noTable = new FakeExecutor({ "nft -j list table bridge nat": { status: 1, stderr: "Error: No such file or directory" } });
    nftablesSpoofCheck(noTable).teardown(request);
    expect(noTable.scripts("nft")).toEqual([]);
    expect(spoofCheckTeardownScript(parseNftListing(listing()), { containerId: "other", ifname: "eth0" }).isEmpty).toBe(true);
  });

  it("finds nothing missing in the complete layout, and names a missing rule or a changed MAC", () => {
    expect(missingSpoofCheck(parseNftListing(listing()), request)).toEqual([]);
    expect(missingSpoofCheck(parseNftListing(listing({ withDrop: false })), request)).toEqual([
      'rule "drop" comment "macspoofchk-ctr1-eth0" in chain bridge nat cni-br-iface-ctr1-eth0-mac',
    ]);
    expect(missingSpoofCheck(parseNftListing(listing()), { ...request, containerMac: "0a:58:0a:01:00:09" })).toEqual([
      'rule "ether saddr == 0a:58:0a:01:00:09 return" comment "macspoofchk-ctr1-eth0" in chain bridge nat cni-br-iface-ctr1-eth0-mac',
    ]);
    expect(missingSpoofCheck(undefined, request)).toEqual(["table bridge nat"]);
  });

  it("refuses an interface name nft cannot take in a chain name, with code 4 naming CNI_IFNAME", () => {
    expect(() => spoofCheckSetupScript({ ...request, ifname: "eth@0" }, [])).toThrow(
      expect.objectContaining({ code: 4, message: expect.stringContaining('CNI_IFNAME: macspoofchk names nftables chains after the container ID and interface name, and nft cannot take "eth@0"') }),
    );
  });
});
