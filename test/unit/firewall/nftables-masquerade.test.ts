import { describe, expect, it } from "vitest";
import { instanceComment, nftablesMasquerade, nftDeleteScript, nftSetupScript } from "../../../lib/firewall/masquerade/nftables.ts";
import { parseNftListing } from "../../../lib/firewall/nftables/listing.ts";
import { FakeExecutor } from "./fake-executor.ts";

const T = "inet cni_plugins_masquerade";
const one = { network: "unit-test", containerId: "one", ifname: "eth0" };
const ONE_COMMENT = "6fd94d501e58f0aa-287fc69eff0574a2, net: unit-test, if: eth0, id: one";

/** `nft -j list table` as nft 1.0.6 printed it for a table our setup made (handles as the kernel gave them). */
function listing(masqRules: { handle: number; comment: string; saddr: string; net: string; len: number }[]): string {
  const rule = (chain: string, handle: number, expr: unknown[], comment?: string) => ({
    rule: { family: "inet", table: "cni_plugins_masquerade", chain, handle, ...(comment ? { comment } : {}), expr },
  });
  const match = (protocol: string, field: string, op: string, right: unknown) => ({
    match: { op, left: { payload: { protocol, field } }, right },
  });
  return JSON.stringify({
    nftables: [
      { metainfo: { version: "1.0.6", release_name: "Lester Gooch #5", json_schema_version: 1 } },
      { table: { family: "inet", name: "cni_plugins_masquerade", handle: 2 } },
      { chain: { family: "inet", table: "cni_plugins_masquerade", name: "masq_checks", handle: 1 } },
      {
        chain: {
          family: "inet",
          table: "cni_plugins_masquerade",
          name: "postrouting",
          handle: 2,
          type: "nat",
          hook: "postrouting",
          prio: 100,
          policy: "accept",
        },
      },
      ...masqRules.map((r) =>
        rule(
          "masq_checks",
          r.handle,
          [
            match(r.saddr.includes(":") ? "ip6" : "ip", "saddr", "==", r.saddr),
            match(r.saddr.includes(":") ? "ip6" : "ip", "daddr", "!=", { prefix: { addr: r.net, len: r.len } }),
            { masquerade: null },
          ],
          r.comment,
        ),
      ),
      rule("postrouting", 3, [match("ip", "daddr", "==", { prefix: { addr: "224.0.0.0", len: 4 } }), { return: null }]),
      rule("postrouting", 4, [match("ip6", "daddr", "==", { prefix: { addr: "ff00::", len: 8 } }), { return: null }]),
      rule("postrouting", 5, [{ goto: { target: "masq_checks" } }]),
    ],
  });
}

describe("nftables masquerading comments", () => {
  // Expected values from the reference's own tests (pkg/ip/ipmasq_nftables_linux_test.go).
  it("starts with the network hash and the ifname + container hash, as the reference's", () => {
    expect(instanceComment(one)).toBe(ONE_COMMENT);
    expect(instanceComment({ network: "alternate", containerId: "three", ifname: "net1" })).toBe(
      "82783ef24bdc7036-acb19d111858e348, net: alternate, if: net1, id: three",
    );
  });

  it("is cut to the 128 bytes the kernel keeps", () => {
    const comment = instanceComment({ ...one, containerId: "x".repeat(200) });
    expect(Buffer.byteLength(comment)).toBe(128);
    expect(comment.startsWith("6fd94d501e58f0aa-")).toBe(true);
  });
});

describe("nftables masquerading scripts", () => {
  it("sets up the table, both chains and one rule per address", () => {
    const script = nftSetupScript({ ...one, addresses: ["192.168.1.1/24", "2001:db8::2/64"] }, []);
    expect(script.text()).toBe(
      [
        `add table ${T} { comment "Masquerading for plugins from github.com/containernetworking/plugins" ; }`,
        `add chain ${T} masq_checks { comment "Masquerade traffic from certain IPs to any (non-multicast) IP outside their subnet" ; }`,
        `add chain ${T} postrouting { type nat hook postrouting priority 100 ; }`,
        `flush chain ${T} postrouting`,
        `add rule ${T} postrouting ip daddr == 224.0.0.0/4 return`,
        `add rule ${T} postrouting ip6 daddr == ff00::/8 return`,
        `add rule ${T} postrouting goto masq_checks`,
        `add rule ${T} masq_checks ip saddr == 192.168.1.1 ip daddr != 192.168.1.0/24 masquerade comment "${ONE_COMMENT}"`,
        `add rule ${T} masq_checks ip6 saddr == 2001:db8::2 ip6 daddr != 2001:db8::/64 masquerade comment "${ONE_COMMENT}"`,
        "",
      ].join("\n"),
    );
  });

  it("replaces the attachment's earlier rules in the same transaction", () => {
    const stale = parseNftListing(listing([{ handle: 6, comment: ONE_COMMENT, saddr: "192.168.1.1", net: "192.168.1.0", len: 24 }]));
    const lines = nftSetupScript({ ...one, addresses: ["192.168.1.1/24"] }, stale.rules("masq_checks")).text().split("\n");
    expect(lines.slice(7)).toEqual([
      `delete rule ${T} masq_checks handle 6`,
      `add rule ${T} masq_checks ip saddr == 192.168.1.1 ip daddr != 192.168.1.0/24 masquerade comment "${ONE_COMMENT}"`,
      "",
    ]);
  });

  it("deletes rules by handle", () => {
    const table = parseNftListing(listing([{ handle: 9, comment: ONE_COMMENT, saddr: "192.168.1.1", net: "192.168.1.0", len: 24 }]));
    expect(nftDeleteScript(table.rules("masq_checks")).text()).toBe(`delete rule ${T} masq_checks handle 9\n`);
    expect(nftDeleteScript([]).isEmpty).toBe(true);
  });
});

describe("nftables listings", () => {
  it("reads rules back in the syntax they were written in", () => {
    const table = parseNftListing(listing([{ handle: 7, comment: ONE_COMMENT, saddr: "2001:db8::2", net: "2001:db8::", len: 64 }]));
    expect(table.rules("masq_checks")).toEqual([
      { chain: "masq_checks", handle: 7, comment: ONE_COMMENT, text: "ip6 saddr == 2001:db8::2 ip6 daddr != 2001:db8::/64 masquerade" },
    ]);
    expect(table.rules("postrouting").map((rule) => rule.text)).toEqual([
      "ip daddr == 224.0.0.0/4 return",
      "ip6 daddr == ff00::/8 return",
      "goto masq_checks",
    ]);
    expect(table.chain("postrouting")).toMatchObject({ type: "nat", hook: "postrouting", prio: 100 });
  });

  it("says code 101 when nft prints something unexpected", () => {
    expect(() => parseNftListing("not json")).toThrow(expect.objectContaining({ code: 101 }));
    expect(() => parseNftListing('{"nftables": [{"rule": {"chain": 1}}]}')).toThrow(
      expect.objectContaining({ code: 101, message: expect.stringContaining("rule of an unexpected shape") }),
    );
  });
});

describe("nftables masquerading with nft", () => {
  const fullTable = listing([
    { handle: 6, comment: ONE_COMMENT, saddr: "192.168.1.1", net: "192.168.1.0", len: 24 },
    { handle: 7, comment: instanceComment({ ...one, containerId: "two" }), saddr: "192.168.1.2", net: "192.168.1.0", len: 24 },
    { handle: 8, comment: instanceComment({ ...one, network: "other" }), saddr: "10.0.0.5", net: "10.0.0.0", len: 24 },
  ]);

  it("lets a missing table pass teardown without running a transaction", () => {
    const executor = new FakeExecutor({ nft: { status: 1, stderr: "Error: No such file or directory\nlist table inet ..." } });
    nftablesMasquerade(executor).teardown(one);
    expect(executor.calls.map((call) => call.args.join(" "))).toEqual(["-j list table inet cni_plugins_masquerade"]);
  });

  it("tears down only the attachment's rules", () => {
    const executor = new FakeExecutor({ "nft -j list table inet cni_plugins_masquerade": { stdout: fullTable } });
    nftablesMasquerade(executor).teardown(one);
    expect(executor.scripts("nft")).toEqual([`delete rule ${T} masq_checks handle 6\n`]);
  });

  it("collects the network's rules of attachments that are not valid, and no other network's", () => {
    const executor = new FakeExecutor({ "nft -j list table inet cni_plugins_masquerade": { stdout: fullTable } });
    nftablesMasquerade(executor).gc("unit-test", [{ containerID: "one", ifname: "eth0" }]);
    expect(executor.scripts("nft")).toEqual([`delete rule ${T} masq_checks handle 7\n`]);
  });

  it("passes CHECK when every rule is there", () => {
    const executor = new FakeExecutor({ "nft -j list table inet cni_plugins_masquerade": { stdout: fullTable } });
    expect(() => nftablesMasquerade(executor).check({ ...one, addresses: ["192.168.1.1/24"] })).not.toThrow();
  });

  it("fails CHECK with code 104 naming the missing rule", () => {
    const executor = new FakeExecutor({ "nft -j list table inet cni_plugins_masquerade": { stdout: fullTable } });
    expect(() => nftablesMasquerade(executor).check({ ...one, addresses: ["192.168.1.1/24", "2001:db8::2/64"] })).toThrow(
      expect.objectContaining({
        code: 104,
        message: `missing rule "ip6 saddr == 2001:db8::2 ip6 daddr != 2001:db8::/64 masquerade" comment "${ONE_COMMENT}" in chain ${T} masq_checks`,
      }),
    );
  });

  it("fails CHECK naming the table when there is none", () => {
    const executor = new FakeExecutor({ nft: { status: 1, stderr: "Error: No such file or directory" } });
    expect(() => nftablesMasquerade(executor).check({ ...one, addresses: ["192.168.1.1/24"] })).toThrow(
      expect.objectContaining({ code: 104, message: `missing table ${T}` }),
    );
  });
});
