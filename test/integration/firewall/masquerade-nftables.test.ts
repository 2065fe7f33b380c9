import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkMasquerade, gcMasquerade, setupMasquerade, teardownMasquerade } from "../../../lib/firewall/index.ts";
import { createFirewallNetns, type FirewallNetns, type NftJsonObject } from "./firewall-netns.ts";

const c1 = { network: "net1", containerId: "c1", ifname: "eth0", addresses: ["10.31.0.2/24", "fd31::2/64"] };
const c1net1 = { ...c1, ifname: "net1", addresses: ["10.31.0.12/24"] };
const c2 = { network: "net1", containerId: "c2", ifname: "eth0", addresses: ["10.31.0.3/24"] };
const c3 = { network: "net1", containerId: "c3", ifname: "eth0", addresses: ["10.31.0.4/24"] };
const other = { network: "net2", containerId: "c1", ifname: "eth0", addresses: ["10.32.0.2/24"] };

// Comment values computed outside this code: the first 16 hex digits of sha512 of the network
// name, "-", of "<ifname>:<containerId>" (`printf %s net1 | sha512sum`), then who it is.
const COMMENTS = {
  c1: "8e48f37d5de60467-f4d01f2ef4b92245, net: net1, if: eth0, id: c1",
  c1net1: "8e48f37d5de60467-5bb1e0863ee62d24, net: net1, if: net1, id: c1",
  c2: "8e48f37d5de60467-8c6ebb285a95686c, net: net1, if: eth0, id: c2",
};

const match = (protocol: string, field: string, op: string, right: unknown) => ({
  match: { op, left: { payload: { protocol, field } }, right },
});
const prefix = (addr: string, len: number) => ({ prefix: { addr, len } });

/** The rules of one chain as nft -j printed them: [comment, expressions] in order. */
function chainRules(listing: NftJsonObject[] | undefined, chain: string): [string | undefined, unknown][] {
  return (listing ?? [])
    .filter((entry) => entry.rule?.chain === chain)
    .map((entry) => [entry.rule!.comment as string | undefined, entry.rule!.expr]);
}

function masqRule(comment: string, ip: string, saddr: string, net: string, len: number): [string, unknown] {
  return [comment, [match(ip, "saddr", "==", saddr), match(ip, "daddr", "!=", prefix(net, len)), { masquerade: null }]];
}

describe("masquerading with nftables", () => {
  let fw: FirewallNetns;
  const options = () => ({ backend: "nftables" as const, executor: fw.executor });
  const table = () => fw.nftTable("inet", "cni_plugins_masquerade");

  beforeEach(() => {
    fw = createFirewallNetns("fwn");
  });
  afterEach(() => fw.ns.remove());

  it("sets up the reference's table, chains and rules", () => {
    setupMasquerade(c1, options());
    const listing = table();
    expect(listing?.filter((entry) => entry.chain).map((entry) => entry.chain)).toEqual([
      { family: "inet", table: "cni_plugins_masquerade", name: "masq_checks", handle: expect.any(Number) },
      {
        family: "inet",
        table: "cni_plugins_masquerade",
        name: "postrouting",
        handle: expect.any(Number),
        type: "nat",
        hook: "postrouting",
        prio: 100,
        policy: "accept",
      },
    ]);
    expect(chainRules(listing, "postrouting")).toEqual([
      [undefined, [match("ip", "daddr", "==", prefix("224.0.0.0", 4)), { return: null }]],
      [undefined, [match("ip6", "daddr", "==", prefix("ff00::", 8)), { return: null }]],
      [undefined, [{ goto: { target: "masq_checks" } }]],
    ]);
    expect(chainRules(listing, "masq_checks")).toEqual([
      masqRule(COMMENTS.c1, "ip", "10.31.0.2", "10.31.0.0", 24),
      masqRule(COMMENTS.c1, "ip6", "fd31::2", "fd31::", 64),
    ]);
  });

  it("gives the table and the masq_checks chain the reference's comments", () => {
    setupMasquerade(c1, options());
    const text = fw.exec(["nft", "list", "table", "inet", "cni_plugins_masquerade"]);
    expect(text).toContain('comment "Masquerading for plugins from github.com/containernetworking/plugins"');
    expect(text).toContain('comment "Masquerade traffic from certain IPs to any (non-multicast) IP outside their subnet"');
  });

  it("is idempotent: a second setup leaves the same rules", () => {
    setupMasquerade(c1, options());
    const once = [chainRules(table(), "postrouting"), chainRules(table(), "masq_checks")];
    setupMasquerade(c1, options());
    expect([chainRules(table(), "postrouting"), chainRules(table(), "masq_checks")]).toEqual(once);
  });

  it("passes CHECK after setup", () => {
    setupMasquerade(c1, options());
    expect(() => checkMasquerade(c1, options())).not.toThrow();
  });

  it("fails CHECK with code 104 naming the rule deleted by hand", () => {
    setupMasquerade(c1, options());
    const v6Rule = table()!.find((entry) => entry.rule?.chain === "masq_checks" && JSON.stringify(entry.rule.expr).includes("fd31::2"));
    fw.exec(["nft", "delete", "rule", "inet", "cni_plugins_masquerade", "masq_checks", "handle", String(v6Rule!.rule!.handle)]);
    expect(() => checkMasquerade(c1, options())).toThrow(
      expect.objectContaining({
        code: 104,
        message: expect.stringContaining('missing rule "ip6 saddr == fd31::2 ip6 daddr != fd31::/64 masquerade"'),
      }),
    );
  });

  it("fails CHECK when the postrouting chain lost its goto", () => {
    setupMasquerade(c1, options());
    fw.exec(["nft", "flush", "chain", "inet", "cni_plugins_masquerade", "postrouting"]);
    expect(() => checkMasquerade(c1, options())).toThrow(
      expect.objectContaining({ code: 104, message: expect.stringContaining('rule "goto masq_checks" in chain inet cni_plugins_masquerade postrouting') }),
    );
  });

  it("tears down exactly this attachment's rules and leaves others intact, another ifname of the same container included", () => {
    setupMasquerade(c1, options());
    setupMasquerade(c1net1, options());
    setupMasquerade(c2, options());
    teardownMasquerade(c1, options());
    expect(chainRules(table(), "masq_checks")).toEqual([
      masqRule(COMMENTS.c1net1, "ip", "10.31.0.12", "10.31.0.0", 24),
      masqRule(COMMENTS.c2, "ip", "10.31.0.3", "10.31.0.0", 24),
    ]);
  });

  it("succeeds on a second teardown and when the table does not exist", () => {
    expect(() => teardownMasquerade(c1, options())).not.toThrow();
    setupMasquerade(c1, options());
    teardownMasquerade(c1, options());
    expect(() => teardownMasquerade(c1, options())).not.toThrow();
    expect(chainRules(table(), "masq_checks")).toEqual([]);
  });

  it("GC removes the rules of attachments no longer valid, and no other network's", () => {
    for (const request of [c1, c2, c3, other]) setupMasquerade(request, options());
    gcMasquerade("net1", [{ containerID: "c1", ifname: "eth0" }], options());
    expect(chainRules(table(), "masq_checks").map(([comment]) => comment?.replace(/^.*, net: /, ""))).toEqual([
      "net1, if: eth0, id: c1",
      "net1, if: eth0, id: c1",
      "net2, if: eth0, id: c1",
    ]);
  });
});
