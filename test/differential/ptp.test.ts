import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mustCall } from "../helpers/cni.ts";
import { createNetns, ipJson, linkExists, type TestNetns } from "../helpers/netns.ts";
import { OUR_BIN, REFERENCE_BIN } from "../helpers/paths.ts";
import { uniqueName } from "../helpers/tag.ts";
import { leaseFiles, natRules, normalizeResult } from "./observe.ts";
import { createPtpNetwork, routeLines, type PtpNetwork } from "../integration/ptp/harness.ts";

/**
 * The same configuration through the reference ptp + host-local (Debian's
 * containernetworking-plugins 1.1.1) and through ours, one after the other on the same network
 * name and subnets, comparing what a user can observe: the result, the container's addresses and
 * routes, the host end's addresses and routes, the host-local files and the masquerading rules.
 */
interface Observation {
  result: unknown;
  containerAddresses: string[];
  containerRoutes: string[];
  hostEnd: unknown;
  hostAddresses: string[];
  hostRoutes: string[];
  leaseFiles: Record<string, string>;
  natRules: string[];
}

const SUITES = { reference: REFERENCE_BIN, ours: OUR_BIN } as const;
type Suite = keyof typeof SUITES;

function call(suite: Suite, netns: TestNetns, containerId: string, config: Record<string, unknown>) {
  return { containerId, netns: netns.path, ifname: "eth0", config, path: SUITES[suite] };
}

function withDataDir(config: Record<string, unknown>, dataDir: string): Record<string, unknown> {
  return { ...config, ipam: { ...(config.ipam as object), dataDir } };
}

function observe(suite: Suite, network: PtpNetwork, config: Record<string, unknown>, containerId: string): Observation {
  const netns = createNetns("pt");
  const dataDir = join(network.dataDir, suite);
  const configured = withDataDir(config, dataDir);
  const plugin = join(SUITES[suite], "ptp");
  try {
    const result = mustCall(plugin, { ...call(suite, netns, containerId, configured), command: "ADD" }).json;
    const hostVeth: string = result.interfaces?.[0]?.name ?? hostVethInto(netns);
    const observation: Observation = {
      result: normalizeResult(result, netns),
      containerAddresses: addresses(netns.name),
      containerRoutes: routeLines(netns),
      hostEnd: linkSettings(hostVeth),
      hostAddresses: addresses(undefined, hostVeth),
      hostRoutes: routeLines(undefined, hostVeth),
      leaseFiles: leaseFiles(join(dataDir, String(config.name))),
      natRules: natRules(containerId),
    };
    mustCall(plugin, { ...call(suite, netns, containerId, configured), command: "DEL", config: { ...configured, prevResult: result } });
    expect(linkExists(hostVeth)).toBe(false);
    return observation;
  } finally {
    netns.remove();
  }
}

/** The host end of the container's veth, for results that do not list it (spec 0.2.0). */
function hostVethInto(netns: TestNetns): string {
  const peerIndex = ipJson<{ link_index: number }[]>(["link", "show", "dev", "eth0"], netns.name)[0]!.link_index;
  return ipJson<{ ifindex: number; ifname: string }[]>(["link", "show"]).find((link) => link.ifindex === peerIndex)!.ifname;
}

/** Links with operstate and MTU, and their global addresses (flags such as nodad left out). */
function addresses(netns: string | undefined, device?: string): string[] {
  const args = device ? ["addr", "show", "dev", device] : ["addr"];
  return ipJson<{ ifname: string; operstate: string; mtu: number; addr_info: { local: string; prefixlen: number; scope: string }[] }[]>(args, netns)
    .flatMap((link) => [
      `${device ? "<veth>" : link.ifname} ${link.operstate} mtu ${link.mtu}`,
      ...link.addr_info.filter((a) => a.scope !== "link").map((a) => `${a.local}/${a.prefixlen} ${a.scope}`),
    ])
    .sort();
}

function linkSettings(device: string): unknown {
  const [link] = ipJson<{ mtu: number; operstate: string; flags: string[]; linkinfo?: { info_kind?: string } }[]>(["-d", "link", "show", "dev", device]);
  return { mtu: link!.mtu, operstate: link!.operstate, flags: link!.flags, kind: link!.linkinfo?.info_kind };
}

describe("ptp + host-local against the reference plugins", () => {
  const networks: PtpNetwork[] = [];
  const namespaces: TestNetns[] = [];
  afterEach(() => {
    for (const netns of namespaces.splice(0)) netns.remove();
    for (const network of networks.splice(0)) network.cleanup();
  });

  const scenarios: [string, (network: PtpNetwork) => Record<string, unknown>][] = [
    ["dual-stack with default routes, spec 1.0.0", (n) => n.config()],
    ["IPv4 with masquerading and MTU, spec 0.3.1", (n) => ({ ...n.config({ ipMasq: true, mtu: 1400 }, "0.3.1"), ipam: { type: "host-local", ranges: [[{ subnet: n.subnets.v4 }]], routes: [{ dst: "0.0.0.0/0" }, { dst: "192.0.2.0/24" }] } })],
    ["dual-stack masquerading with DNS, spec 0.4.0", (n) => n.config({ ipMasq: true, dns: { nameservers: ["192.0.2.53"], domain: "example.org" } }, "0.4.0")],
    ["legacy single-range host-local keys, spec 0.2.0", (n) => ({ ...n.config({}, "0.2.0"), ipam: { type: "host-local", subnet: n.subnets.v4, rangeStart: `${n.subnets.v4Prefix}.100`, gateway: `${n.subnets.v4Prefix}.1` } })],
  ];

  it.each(scenarios)("matches the reference: %s", (_, makeConfig) => {
    const network = createPtpNetwork();
    networks.push(network);
    const config = makeConfig(network);
    const containerId = uniqueName("ptd");
    const reference = observe("reference", network, config, containerId);
    const ours = observe("ours", network, config, containerId);
    if (process.env.SHOW_OBSERVATIONS) console.log(JSON.stringify(reference, null, 1));
    expect(ours).toEqual(reference);
  });

  it.each([
    ["the reference", "ours"],
    ["ours", "the reference"],
  ] as const)("%s ADD, then %s DEL: the lease, the veth and the masquerading go", (adder, deleter) => {
    const network = createPtpNetwork();
    networks.push(network);
    const netns = createNetns("pt");
    namespaces.push(netns);
    const suiteOf = (who: string): Suite => (who === "ours" ? "ours" : "reference");
    const config = network.config({ ipMasq: true });
    const containerId = uniqueName("ptd");
    const result = mustCall(join(SUITES[suiteOf(adder)], "ptp"), { ...call(suiteOf(adder), netns, containerId, config), command: "ADD" }).json;
    expect(network.leases()).toHaveLength(2);
    expect(natRules(containerId).length).toBeGreaterThan(0);
    mustCall(join(SUITES[suiteOf(deleter)], "ptp"), { ...call(suiteOf(deleter), netns, containerId, { ...config, prevResult: result }), command: "DEL" });
    expect(network.leases()).toEqual([]);
    expect(linkExists(result.interfaces[0].name)).toBe(false);
    expect(natRules(containerId)).toEqual([]);
  });
});
