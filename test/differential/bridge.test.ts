import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mustCall } from "../helpers/cni.ts";
import { createNetns, ipJson, type TestNetns } from "../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../helpers/network.ts";
import { OUR_BIN, REFERENCE_BIN } from "../helpers/paths.ts";
import { uniqueName } from "../helpers/tag.ts";
import { leaseFiles, natRules, normalizeResult } from "./observe.ts";

/**
 * The same configuration through the reference bridge + host-local (Debian's
 * containernetworking-plugins) and through ours, one after the other on the same bridge name and
 * subnet, comparing what a user can observe: the result, the container's addresses and routes,
 * the host-local files, and the masquerading rules.
 */
interface Observation {
  result: unknown;
  addresses: string[];
  routes: string[];
  leaseFiles: Record<string, string>;
  natRules: string[];
  bridgePort: unknown;
}

const SUITES = { reference: REFERENCE_BIN, ours: OUR_BIN } as const;

function observe(suite: keyof typeof SUITES, network: TestNetwork, config: Record<string, unknown>, containerId: string): Observation {
  const netns = createNetns("df");
  const dataDir = join(network.dataDir, suite);
  const withDataDir = config.ipam ? { ...config, ipam: { ...(config.ipam as object), dataDir } } : config;
  const call = { containerId, netns: netns.path, ifname: "eth0", config: withDataDir, path: SUITES[suite] };
  try {
    const result = mustCall(join(SUITES[suite], "bridge"), { ...call, command: "ADD" }).json;
    const observation: Observation = {
      result: normalizeResult(result, netns),
      addresses: containerAddresses(netns),
      routes: containerRoutes(netns),
      leaseFiles: leaseFiles(join(dataDir, String(config.name))),
      natRules: natRules(containerId),
      bridgePort: bridgePort(result.interfaces?.[1]?.name),
    };
    mustCall(join(SUITES[suite], "bridge"), { ...call, command: "DEL", config: { ...withDataDir, prevResult: result } });
    return observation;
  } finally {
    netns.remove();
    execFileSync("ip", ["link", "del", network.bridge], { stdio: "ignore" });
  }
}

function containerAddresses(netns: TestNetns): string[] {
  return ipJson<{ ifname: string; operstate: string; mtu: number; addr_info: { local: string; prefixlen: number; scope: string }[] }[]>(["addr"], netns.name)
    .flatMap((link) => [
      `${link.ifname} ${link.operstate} mtu ${link.mtu}`,
      ...link.addr_info.filter((a) => a.scope !== "link").map((a) => `${link.ifname} ${a.local}/${a.prefixlen} ${a.scope}`),
    ])
    .sort();
}

function containerRoutes(netns: TestNetns): string[] {
  return ["-4", "-6"]
    .flatMap((family) => netns.exec(["ip", family, "route", "show", "table", "main"]).split("\n"))
    .filter((line) => line && !line.startsWith("fe80::"))
    .sort();
}

/** The host veth's settings as a bridge port (hairpin, isolation, learning, ...), and its MTU. */
function bridgePort(hostVeth: string | undefined): unknown {
  if (!hostVeth) return undefined;
  const [link] = ipJson<{ mtu: number; operstate: string; linkinfo?: { info_slave_data?: Record<string, unknown> } }[]>(["-d", "link", "show", hostVeth]);
  const { mtu, operstate, linkinfo } = link!;
  // Identifiers and timers differ per bridge and per moment; the settings must not.
  const { id: _id, no: _no, bridge_id: _b, root_id: _r, designated_port: _dp, designated_cost: _dc, designated_bridge: _db, designated_root: _dr, hold_timer: _h, message_age_timer: _m, forward_delay_timer: _f, ...port } = linkinfo?.info_slave_data ?? {};
  return { mtu, operstate, port };
}

describe("bridge + host-local against the reference plugins", () => {
  const networks: TestNetwork[] = [];
  afterEach(() => {
    for (const network of networks.splice(0)) network.cleanup();
  });

  const scenarios: [string, (network: TestNetwork) => Record<string, unknown>][] = [
    ["dual-stack gateway, spec 1.0.0", (n) => n.bridgeConfig()],
    ["default gateway with IPAM routes, spec 0.4.0", (n) => n.bridgeConfig({ isDefaultGateway: true }, "0.4.0")],
    ["IPv4 only with masquerading and MTU, spec 0.3.1", (n) => ({ ...n.bridgeConfig({ ipMasq: true, mtu: 1400 }, "0.3.1"), ipam: { type: "host-local", ranges: [[{ subnet: n.subnets.v4 }]], routes: [{ dst: "10.199.0.0/16" }] } })],
    ["legacy single-range host-local keys, spec 0.2.0", (n) => ({ ...n.bridgeConfig({}, "0.2.0"), ipam: { type: "host-local", subnet: n.subnets.v4, rangeStart: `${n.subnets.v4Prefix}.100`, gateway: `${n.subnets.v4Prefix}.1` } })],
    ["layer 2 only, no IPAM", (n) => { const { ipam: _, ...rest } = n.bridgeConfig(); return rest; }],
    ["hairpin, promiscuous off, isGateway off", (n) => n.bridgeConfig({ isGateway: false, hairpinMode: true })],
  ];

  it.each(scenarios)("matches the reference: %s", (_, makeConfig) => {
    const network = createTestNetwork();
    networks.push(network);
    const config = makeConfig(network);
    const containerId = uniqueName("d");
    const reference = observe("reference", network, config, containerId);
    const ours = observe("ours", network, config, containerId);
    if (process.env.SHOW_OBSERVATIONS) console.log(JSON.stringify(reference, null, 1));
    expect(ours).toEqual(reference);
  });
});
