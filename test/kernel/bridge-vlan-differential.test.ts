import { beforeAll, describe, expect, it } from "vitest";
import type { Result } from "../../lib/types/index.ts";
import { GUEST_HOOK_TIMEOUT_MS, mustRunInGuest, type GuestRun } from "./guest.ts";
import { portVlans, type GuestState } from "./state.ts";

/**
 * The same bridge VLAN configurations through the reference bridge + host-local (Debian's
 * containernetworking-plugins 1.1.1) and ours, each suite in a guest of its own (this host's
 * kernel has no bridge VLAN filtering), comparing the result, the container's addresses and
 * routes, and on the host the bridge, the port's VLANs and the VLAN gateway interface.
 *
 * Reference 1.1.1 knows `vlan` but not `vlanTrunk` or `preserveDefaultVlan` (upstream added
 * them in 1.3.0): it ignores both keys and always keeps the default VLAN on the port. So trunks
 * have no oracle here (they are proven live in bridge-vlan.test.ts), and where
 * preserveDefaultVlan is true both suites must agree exactly.
 */
interface Scenario {
  name: string;
  /** One bridge and one container per scenario, so the scenarios share a guest untouched. */
  bridge: string;
  container: string;
  config: Record<string, unknown>;
}

function scenario(index: number, name: string, options: Record<string, unknown>, dualStack = false): Scenario {
  const ranges = [[{ subnet: `10.${index}.0.0/24` }], ...(dualStack ? [[{ subnet: `fd00:${index}::/64` }]] : [])];
  const config = { cniVersion: "1.0.0", name: `net${index}`, type: "bridge", bridge: `br${index}`, ...options, ipam: { type: "host-local", ranges } };
  return { name, bridge: `br${index}`, container: `c${index}`, config };
}

const SCENARIOS: Scenario[] = [
  scenario(1, "an access port on VLAN 10 keeping the default VLAN", { vlan: 10, preserveDefaultVlan: true }),
  scenario(2, "a dual-stack VLAN gateway and default routes", { vlan: 10, isDefaultGateway: true, preserveDefaultVlan: true }, true),
  scenario(3, "an access port on VLAN 4094 with MTU 1400 and hairpin", { vlan: 4094, mtu: 1400, hairpinMode: true, preserveDefaultVlan: true }),
  scenario(4, "an access port on VLAN 10 with the default preserveDefaultVlan", { vlan: 10 }),
];
/** The scenario where the suites differ by design: upstream's default for preserveDefaultVlan has been false since 1.8.0. */
const DEFAULT_VLAN_REMOVED = SCENARIOS[3]!;

type Suite = "reference" | "ours";

function runSuite(suite: Suite): Promise<GuestRun> {
  const inputs = Object.fromEntries(SCENARIOS.map((s) => [`${s.container}.conf`, s.config]));
  const adds = SCENARIOS.map((s) => `cni ${suite} ADD bridge ${s.container} ${s.container}.conf > ${s.container}.json; snapshot ${s.container} ${s.container}`);
  return mustRunInGuest({
    modules: ["bridge", "veth", "ipv6"],
    inputs,
    script: [`container ${SCENARIOS.map((s) => s.container).join(" ")}`, ...adds, "snapshot host"].join("\n"),
  });
}

interface Observation {
  result: unknown;
  container: { addresses: string[]; routes: string[] };
  bridge: { vlanFiltering: unknown; mtu: number | undefined; addresses: string[]; vlans: string[] | undefined };
  port: { mtu: number | undefined; hairpin: unknown; vlans: string[] | undefined };
  gateway?: { addresses: string[]; mtu: number | undefined; portVlans: string[] | undefined };
}

function observe(run: GuestRun, scenario: Scenario): Observation {
  const result = run.json<Result>(`${scenario.container}.json`);
  const host = run.state("host");
  const container = run.state(scenario.container);
  const portName = result.interfaces?.[1]?.name ?? "(none)";
  const port = host.links.find((link) => link.ifname === portName);
  const bridge = host.links.find((link) => link.ifname === scenario.bridge);
  const gatewayName = `${scenario.bridge}.${String(scenario.config.vlan)}`;
  const gateway = host.links.find((link) => link.ifname === gatewayName);
  return {
    result: normalize(result),
    container: { addresses: addresses(container), routes: routes(container) },
    bridge: {
      vlanFiltering: bridge?.linkinfo?.info_data?.vlan_filtering,
      mtu: bridge?.mtu,
      addresses: addresses(host, scenario.bridge),
      vlans: portVlans(host, scenario.bridge),
    },
    port: { mtu: port?.mtu, hairpin: port?.linkinfo?.info_slave_data?.hairpin, vlans: portVlans(host, portName) },
    ...(gateway && {
      gateway: { addresses: addresses(host, gatewayName), mtu: gateway.mtu, portVlans: portVlans(host, gateway.link ?? "(no peer)") },
    }),
  };
}

/** MACs and the random host veth name differ run to run by design; the rest must match. */
function normalize(result: Result): unknown {
  const text = JSON.stringify(result)
    .replace(/"([0-9a-f]{2}:){5}[0-9a-f]{2}"/g, '"<mac>"')
    .replace(/veth[0-9a-f]{8}/g, "<veth>");
  return JSON.parse(text);
}

/** Global addresses (link-local ones are the kernel's), of one link or all, as "ifname address/len". */
function addresses(state: GuestState, ifname?: string): string[] {
  return state.addresses
    .filter((entry) => ifname === undefined || entry.ifname === ifname)
    .flatMap((entry) => entry.addr_info.filter((a) => a.scope !== "link").map((a) => `${entry.ifname} ${a.local}/${a.prefixlen}`))
    .sort();
}

function routes(state: GuestState): string[] {
  return state.routes
    .filter((route) => !route.dst.startsWith("fe80:"))
    .map((route) => [route.dst, route.gateway && `via ${route.gateway}`, route.dev && `dev ${route.dev}`, route.scope && `scope ${route.scope}`].filter(Boolean).join(" "))
    .sort();
}

describe("bridge VLANs against the reference plugins, in a kernel with VLAN filtering", () => {
  const runs = {} as Record<Suite, GuestRun>;

  beforeAll(async () => {
    [runs.reference, runs.ours] = await Promise.all([runSuite("reference"), runSuite("ours")]);
  }, GUEST_HOOK_TIMEOUT_MS);

  it.each(SCENARIOS.filter((s) => s !== DEFAULT_VLAN_REMOVED).map((s) => [s.name, s] as const))("matches the reference: %s", (_, scenario) => {
    const reference = observe(runs.reference, scenario);
    if (process.env.SHOW_OBSERVATIONS) console.log(JSON.stringify(reference, null, 1));
    expect(reference.bridge.vlanFiltering).toBe(1);
    expect(observe(runs.ours, scenario)).toEqual(reference);
  });

  it("differs only by removing the default VLAN from the port when preserveDefaultVlan is unset (upstream's default since 1.8.0)", () => {
    const reference = observe(runs.reference, DEFAULT_VLAN_REMOVED);
    const ours = observe(runs.ours, DEFAULT_VLAN_REMOVED);
    expect(reference.port.vlans).toEqual(["1 untagged", "10 PVID untagged"]);
    expect(ours).toEqual({ ...reference, port: { ...reference.port, vlans: ["10 PVID untagged"] } });
  });
});
