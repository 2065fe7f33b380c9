import { describe, expect, it } from "vitest";
import { parseNftListing } from "../../../lib/firewall/nftables/listing.ts";
import {
  containerRules,
  hostportRules,
  masqueradingRules,
  missingNftRules,
  nftablesPortMap,
  nftPortmapSetupScript,
  nftPortmapTeardownScript,
} from "../../../lib/firewall/portmap/nftables.ts";
import type { PortMapping, PortMapRequest, PortMapSettings } from "../../../lib/firewall/portmap/types.ts";
import { FakeExecutor } from "../firewall/fake-executor.ts";
import { requestWith, V4, V6 } from "./request.ts";

function request(overrides: Partial<PortMapRequest> = {}, settings: Partial<PortMapSettings> = {}): PortMapRequest {
  const mappings: PortMapping[] = [
    { hostPort: 8080, containerPort: 80, protocol: "tcp" },
    { hostPort: 9090, containerPort: 90, protocol: "tcp", hostIP: "192.0.2.9" },
    { hostPort: 9092, containerPort: 92, protocol: "udp", hostIP: "fd00::9" },
  ];
  return requestWith(mappings, overrides, settings);
}

/** A rule as `nft -j list` prints it. */
function jsonRule(family: string, chain: string, handle: number, comment: string | undefined, expr: unknown[]) {
  return { rule: { family, table: "cni_hostport", chain, handle, ...(comment ? { comment } : {}), expr } };
}
const match = (protocol: string, field: string, right: unknown) => ({ match: { op: "==", left: { payload: { protocol, field } }, right } });

describe("nftables port mapping scripts", () => {
  it("sets up the reference's table and chains, and the container's rules, for IPv4", () => {
    expect(nftPortmapSetupScript(request(), V4, undefined).text().split("\n")).toEqual([
      'add table ip cni_hostport { comment "CNI portmap plugin" ; }',
      "add chain ip cni_hostport hostports",
      "add chain ip cni_hostport hostip_hostports",
      "add chain ip cni_hostport hostports_all",
      "flush chain ip cni_hostport hostports_all",
      "add rule ip cni_hostport hostports_all jump hostip_hostports",
      "add rule ip cni_hostport hostports_all jump hostports",
      "add chain ip cni_hostport prerouting { type nat hook prerouting priority -100 ; }",
      "flush chain ip cni_hostport prerouting",
      "add rule ip cni_hostport prerouting fib daddr type == local jump hostports_all",
      "add chain ip cni_hostport output { type nat hook output priority -100 ; }",
      "flush chain ip cni_hostport output",
      "add rule ip cni_hostport output fib daddr type == local jump hostports_all",
      "add chain ip cni_hostport masquerading { type nat hook postrouting priority 100 ; }",
      'add rule ip cni_hostport hostports tcp dport == 8080 dnat to 10.1.2.3:80 comment "ctr1"',
      'add rule ip cni_hostport hostports ip daddr == 192.0.2.9 tcp dport == 9090 dnat to 10.1.2.3:90 comment "ctr1"',
      'add rule ip cni_hostport masquerading ip saddr == 10.1.2.3 ip daddr == 10.1.2.3 masquerade comment "ctr1"',
      'add rule ip cni_hostport masquerading ip saddr == 127.0.0.1 ip daddr == 10.1.2.3 masquerade comment "ctr1"',
      "",
    ]);
  });

  it("has its own ip6 table, no localhost rule and bracketed targets for IPv6", () => {
    const req = request();
    expect(hostportRules(req, V6)).toEqual([
      "tcp dport == 8080 dnat to [fd00:1::3]:80",
      "ip6 daddr == fd00::9 udp dport == 9092 dnat to [fd00:1::3]:92",
    ]);
    expect(masqueradingRules(req, V6)).toEqual(["ip6 saddr == fd00:1::3 ip6 daddr == fd00:1::3 masquerade"]);
    expect(nftPortmapSetupScript(req, V6, undefined).text()).toContain("add table ip6 cni_hostport");
  });

  it("masquerades every source with masqAll, and nothing without snat", () => {
    expect(masqueradingRules(request({}, { masqAll: true }), V4)).toEqual(["ip saddr == 0.0.0.0/0 ip daddr == 10.1.2.3 masquerade"]);
    expect(masqueradingRules(request({}, { masqAll: true }), V6)).toEqual(["ip6 saddr == ::/0 ip6 daddr == fd00:1::3 masquerade"]);
    const script = nftPortmapSetupScript(request({}, { snat: false }), V4, undefined).text();
    expect(script).not.toContain("masquerad");
  });

  it("puts the family's conditions in front of the entry rules", () => {
    const script = nftPortmapSetupScript(request({}, { conditionsV4: ["ip", "daddr", "!=", "192.0.2.0/24"] }), V4, undefined).text();
    expect(script).toContain("add rule ip cni_hostport prerouting ip daddr != 192.0.2.0/24 fib daddr type == local jump hostports_all\n");
    expect(script).toContain("add rule ip cni_hostport output ip daddr != 192.0.2.0/24 fib daddr type == local jump hostports_all\n");
  });

  it("adds none of the container's rules that are there already", () => {
    const listing = parseNftListing(
      JSON.stringify({
        nftables: [
          jsonRule("ip", "hostports", 5, "ctr1", [match("tcp", "dport", 8080), { dnat: { addr: "10.1.2.3", port: 80 } }]),
          jsonRule("ip", "masquerading", 6, "ctr1", [match("ip", "saddr", "10.1.2.3"), match("ip", "daddr", "10.1.2.3"), { masquerade: null }]),
        ],
      }),
    );
    const added = nftPortmapSetupScript(request(), V4, listing)
      .text()
      .split("\n")
      .filter((line) => line.startsWith("add rule") && line.includes("comment"));
    expect(added).toEqual([
      'add rule ip cni_hostport hostports ip daddr == 192.0.2.9 tcp dport == 9090 dnat to 10.1.2.3:90 comment "ctr1"',
      'add rule ip cni_hostport masquerading ip saddr == 127.0.0.1 ip daddr == 10.1.2.3 masquerade comment "ctr1"',
    ]);
  });

  it("tears down every rule with the container's comment, by handle", () => {
    const listing = parseNftListing(
      JSON.stringify({
        nftables: [
          jsonRule("ip", "hostports", 5, "ctr1", [match("tcp", "dport", 8080)]),
          jsonRule("ip", "hostports", 6, "ctr2", [match("tcp", "dport", 8081)]),
          jsonRule("ip", "hostip_hostports", 7, "ctr1", [match("tcp", "dport", 8082)]),
          jsonRule("ip", "masquerading", 8, "ctr1", [{ masquerade: null }]),
          jsonRule("ip", "prerouting", 9, "ctr1", [{ jump: { target: "hostports_all" } }]),
        ],
      }),
    );
    expect(nftPortmapTeardownScript(4, containerRules(listing, "ctr1")).text()).toBe(
      [
        "delete rule ip cni_hostport hostports handle 5",
        "delete rule ip cni_hostport hostip_hostports handle 7",
        "delete rule ip cni_hostport masquerading handle 8",
        "",
      ].join("\n"),
    );
    expect(nftPortmapTeardownScript(6, containerRules(undefined, "ctr1")).isEmpty).toBe(true);
  });

  it("CHECK names the missing table, or each missing rule", () => {
    expect(missingNftRules(undefined, request(), V4)).toEqual(["table ip cni_hostport"]);
    const listing = parseNftListing(
      JSON.stringify({
        nftables: [
          { chain: { name: "prerouting", type: "nat", hook: "prerouting", prio: -100 } },
          { chain: { name: "output", type: "nat", hook: "output", prio: -100 } },
          { chain: { name: "masquerading", type: "nat", hook: "postrouting", prio: 100 } },
          { chain: { name: "hostports_all" } },
          jsonRule("ip", "prerouting", 1, undefined, [
            { match: { op: "==", left: { fib: { result: "type", flags: ["daddr"] } }, right: "local" } },
            { jump: { target: "hostports_all" } },
          ]),
          jsonRule("ip", "hostports_all", 2, undefined, [{ jump: { target: "hostip_hostports" } }]),
          jsonRule("ip", "hostports_all", 3, undefined, [{ jump: { target: "hostports" } }]),
          jsonRule("ip", "hostports", 4, "ctr1", [match("tcp", "dport", 8080), { dnat: { addr: "10.1.2.3", port: 80 } }]),
          jsonRule("ip", "hostports", 5, "ctr2", [match("ip", "daddr", "192.0.2.9"), match("tcp", "dport", 9090), { dnat: { addr: "10.1.2.3", port: 90 } }]),
          jsonRule("ip", "masquerading", 6, "ctr1", [match("ip", "saddr", "10.1.2.3"), match("ip", "daddr", "10.1.2.3"), { masquerade: null }]),
          jsonRule("ip", "masquerading", 7, "ctr1", [match("ip", "saddr", "127.0.0.1"), match("ip", "daddr", "10.1.2.3"), { masquerade: null }]),
        ],
      }),
    );
    expect(missingNftRules(listing, request(), V4)).toEqual([
      'rule "fib daddr type == local jump hostports_all" in chain ip cni_hostport output',
      'rule "ip daddr == 192.0.2.9 tcp dport == 9090 dnat to 10.1.2.3:90" comment "ctr1" in chain ip cni_hostport hostports',
    ]);
  });

  it("reads one table per family and commits one transaction per family", () => {
    const executor = new FakeExecutor({ nft: (call) => (call.args[0] === "-j" ? { status: 1, stderr: "Error: No such file or directory" } : {}) });
    nftablesPortMap(executor).setup(request());
    expect(executor.calls.map((call) => call.args.join(" "))).toEqual([
      "-j list table ip cni_hostport",
      "-f -",
      "-j list table ip6 cni_hostport",
      "-f -",
    ]);
  });

  it("leaves everything alone on GC: the rules do not say which network they belong to", () => {
    const executor = new FakeExecutor();
    nftablesPortMap(executor).gc("mynet", []);
    expect(executor.calls).toEqual([]);
  });
});
