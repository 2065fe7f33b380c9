import { execFileSync } from "node:child_process";
import { callPlugin, mustCall, type PluginCall, type PluginOutcome } from "../../helpers/cni.ts";
import { createNetns, ipJson, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { uniqueName } from "../../helpers/tag.ts";

/** A ptp network of a test: random dual-stack subnets, its own host-local data dir, default routes via the gateway. */
export interface PtpNetwork extends TestNetwork {
  config(overrides?: Record<string, unknown>, cniVersion?: string): Record<string, unknown>;
  gateway(family: 4 | 6): string;
}

export function createPtpNetwork(options: { dualStack?: boolean } = {}): PtpNetwork {
  const network = createTestNetwork(options);
  const { v4Prefix, v6Prefix } = network.subnets;
  return {
    ...network,
    config: (overrides = {}, cniVersion = "1.0.0") => ptpConfigFor(network, options, overrides, cniVersion),
    gateway: (family) => (family === 4 ? `${v4Prefix}.1` : `${v6Prefix}::1`),
  };
}

/** A ptp configuration on a test network's name, subnets and data dir. */
export function ptpConfigFor(
  network: TestNetwork,
  options: { dualStack?: boolean } = {},
  overrides: Record<string, unknown> = {},
  cniVersion = "1.0.0",
): Record<string, unknown> {
  const { v4, v6 } = network.subnets;
  const dualStack = options.dualStack !== false;
  return {
    cniVersion,
    name: network.name,
    type: "ptp",
    ipam: {
      type: "host-local",
      dataDir: network.dataDir,
      ranges: dualStack ? [[{ subnet: v4 }], [{ subnet: v6 }]] : [[{ subnet: v4 }]],
      routes: dualStack ? [{ dst: "0.0.0.0/0" }, { dst: "::/0" }] : [{ dst: "0.0.0.0/0" }],
    },
    ...overrides,
  };
}

/** A container attached with ptp: its namespace, ID, ADD result and addresses. */
export interface PtpContainer {
  id: string;
  netns: TestNetns;
  config: Record<string, unknown>;
  result: any;
  v4: string;
  v6: string | undefined;
  hostVeth: string;
  call(command: PluginCall["command"], extra?: Partial<PluginCall>): PluginOutcome;
}

/** Runs ptp ADD in a fresh namespace (prefix "pt"); the namespace is pushed on `namespaces` for cleanup. */
export function addPtpContainer(network: Pick<PtpNetwork, "config">, namespaces: TestNetns[], config = network.config()): PtpContainer {
  const netns = createNetns("pt");
  namespaces.push(netns);
  const id = uniqueName("ptc");
  const call = (command: PluginCall["command"], extra: Partial<PluginCall> = {}) =>
    callPlugin("ptp", { command, containerId: id, netns: netns.path, ifname: "eth0", config, ...extra });
  const result = mustCall("ptp", { command: "ADD", containerId: id, netns: netns.path, ifname: "eth0", config }).json;
  netns.exec(["ip", "link", "set", "lo", "up"]);
  const addressOf = (v6: boolean) => (result.ips as { address: string }[]).map((ipc) => ipc.address.split("/")[0]!).find((address) => address.includes(":") === v6);
  return { id, netns, config, result, v4: addressOf(false)!, v6: addressOf(true), hostVeth: result.interfaces[0].name, call };
}

/** "address/prefix" of a link's global addresses. */
export function globalAddresses(link: string, netns?: string): string[] {
  return ipJson<{ addr_info: { local: string; prefixlen: number; scope: string }[] }[]>(["addr", "show", "dev", link], netns)
    .flatMap((entry) => entry.addr_info)
    .filter((address) => address.scope === "global")
    .map((address) => `${address.local}/${address.prefixlen}`);
}

/** Routes as `ip route` prints them (both families, main table, IPv6 link-local left out). */
export function routeLines(netns: TestNetns | undefined, device?: string): string[] {
  const dev = device ? ["dev", device] : [];
  return ["-4", "-6"]
    .flatMap((family) => {
      const args = ["route", "show", "table", "main", ...dev];
      return (netns ? netns.exec(["ip", family, ...args]) : execFileSync("ip", [family, ...args], { encoding: "utf8" })).split("\n");
    })
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("fe80::") && !line.startsWith("multicast"))
    .sort();
}

