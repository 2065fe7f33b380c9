import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { teardownPortMappings } from "../../../lib/firewall/index.ts";
import { callPlugin, mustCall, type PluginOutcome } from "../../helpers/cni.ts";
import { createNetns, deleteLinkIfExists, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { randomSubnets, uniqueName } from "../../helpers/tag.ts";

/**
 * A host with a bridge network (our bridge + host-local, dual-stack, the bridge the containers'
 * default gateway) and a "remote" namespace standing for another machine: connected to the
 * host by a veth and routed to the host's address on it.
 */
export interface Topology {
  network: TestNetwork;
  remote: TestNetns;
  /** The host's addresses on the veth to the remote. */
  host: { v4: string; v6: string };
  remoteAddress: { v4: string; v6: string };
  cleanup(): void;
}

export function ip(args: string[]): void {
  const result = spawnSync("ip", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`ip ${args.join(" ")}: ${result.stderr}`);
}

export function createTopology(options: { dualStack?: boolean } = {}): Topology {
  const network = createTestNetwork(options);
  const remote = createNetns("pmr");
  const hostVeth = uniqueName("pmh");
  const outside = randomSubnets();
  const topology: Topology = {
    network,
    remote,
    host: { v4: `${outside.v4Prefix}.1`, v6: `${outside.v6Prefix}::1` },
    remoteAddress: { v4: `${outside.v4Prefix}.2`, v6: `${outside.v6Prefix}::2` },
    cleanup() {
      deleteLinkIfExists(hostVeth);
      remote.remove();
      network.cleanup();
    },
  };
  try {
    ip(["link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", remote.name]);
    ip(["addr", "add", `${topology.host.v4}/24`, "dev", hostVeth]);
    ip(["addr", "add", `${topology.host.v6}/64`, "dev", hostVeth, "nodad"]);
    ip(["link", "set", hostVeth, "up"]);
    ip(["-n", remote.name, "addr", "add", `${topology.remoteAddress.v4}/24`, "dev", "eth0"]);
    ip(["-n", remote.name, "addr", "add", `${topology.remoteAddress.v6}/64`, "dev", "eth0", "nodad"]);
    ip(["-n", remote.name, "link", "set", "eth0", "up"]);
    ip(["-n", remote.name, "link", "set", "lo", "up"]);
    ip(["-n", remote.name, "route", "add", "default", "via", topology.host.v4]);
    ip(["-n", remote.name, "-6", "route", "add", "default", "via", topology.host.v6]);
    return topology;
  } catch (error) {
    topology.cleanup();
    throw error;
  }
}

/** A container on the topology's bridge network, with the bridge's ADD result. */
export interface Container {
  id: string;
  netns: TestNetns;
  /** The bridge ADD result: portmap's prevResult. */
  result: { ips: { address: string }[] } & Record<string, unknown>;
  v4: string;
  v6: string | undefined;
}

/**
 * As podman configures its bridge: the containers' default gateway, and hairpin mode on, which
 * a container needs to reach itself through a host port (br_netfilter sends the DNATed packet
 * back out of the port it came in on).
 */
export function bridgeConfig(network: TestNetwork): Record<string, unknown> {
  return network.bridgeConfig({ isDefaultGateway: true, hairpinMode: true });
}

export function addContainer(topology: Pick<Topology, "network">): Container {
  const netns = createNetns("pmc");
  const id = uniqueName("pmctr");
  try {
    const result = mustCall("bridge", { command: "ADD", containerId: id, netns: netns.path, ifname: "eth0", config: bridgeConfig(topology.network) }).json;
    const addressOf = (v6: boolean) => (result.ips as { address: string }[]).map((ipc) => ipc.address.split("/")[0]!).find((address) => address.includes(":") === v6);
    netns.exec(["ip", "link", "set", "lo", "up"]);
    return { id, netns, result, v4: addressOf(false)!, v6: addressOf(true) };
  } catch (error) {
    netns.remove();
    throw error;
  }
}

export function removeContainer(topology: Pick<Topology, "network">, container: Container): void {
  callPlugin("bridge", { command: "DEL", containerId: container.id, netns: container.netns.path, ifname: "eth0", config: bridgeConfig(topology.network) });
  container.netns.remove();
}

export interface Mapping {
  hostPort: number;
  containerPort: number;
  protocol?: string;
  hostIP?: string;
}

/** A portmap configuration for the network, chained after bridge (prevResult) unless told otherwise. */
export function portmapConfig(
  network: TestNetwork,
  mappings: Mapping[],
  extra: Record<string, unknown> = {},
  prevResult?: unknown,
): Record<string, unknown> {
  return {
    cniVersion: "1.0.0",
    name: network.name,
    type: "portmap",
    runtimeConfig: { portMappings: mappings },
    ...(prevResult === undefined ? {} : { prevResult }),
    ...extra,
  };
}

/** Runs portmap (ours, or another binary such as the reference) for a container. */
export function portmap(
  command: "ADD" | "DEL" | "CHECK",
  container: Container,
  config: Record<string, unknown>,
  binary = "portmap",
): PluginOutcome {
  return callPlugin(binary, { command, containerId: container.id, netns: container.netns.path, ifname: "eth0", config });
}

/**
 * Removes a container's port mappings by name whatever happened in the test, from both
 * backends; only rules named after this network and container are touched.
 */
export function forgetPortMappings(network: TestNetwork, container: Container): void {
  teardownPortMappings({ network: network.name, containerId: container.id });
}

const usedPorts = new Set<number>();

/** A host port for one test, at random among the high ones so parallel runs do not collide. */
export function freePort(): number {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if (!usedPorts.has(port)) {
      usedPorts.add(port);
      return port;
    }
  }
}

/** A busybox web server in the container whose CGI answers with the client address it saw. */
export interface WebServer {
  stop(): void;
}

export function startWebServer(container: Container, port: number): WebServer {
  const dir = mkdtempSync(join(tmpdir(), "pm-www-"));
  mkdirSync(join(dir, "cgi-bin"));
  writeFileSync(join(dir, "cgi-bin", "addr"), '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%s\\n" "$REMOTE_ADDR"\n');
  chmodSync(join(dir, "cgi-bin", "addr"), 0o755);
  const server = spawn("ip", ["netns", "exec", container.netns.name, "busybox", "httpd", "-f", "-p", String(port), "-h", dir], { stdio: "ignore" });
  const stop = () => {
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    waitFor(() => fetchSeenAddress(container.netns.name, `http://127.0.0.1:${port}/cgi-bin/addr`, 1) === "127.0.0.1", `httpd in ${container.netns.name}`);
  } catch (error) {
    stop();
    throw error;
  }
  return { stop };
}

/**
 * Fetches the CGI with curl, from inside a namespace or (netns undefined) from the host, and
 * returns the client address the container saw, or undefined when nothing answered in time.
 */
export function fetchSeenAddress(netns: string | undefined, url: string, maxSeconds = 5): string | undefined {
  const curl = ["curl", "-s", "-g", "--noproxy", "*", "--max-time", String(maxSeconds), url];
  const command = netns === undefined ? curl : ["ip", "netns", "exec", netns, ...curl];
  const result = spawnSync(command[0]!, command.slice(1), { encoding: "utf8" });
  if (result.status !== 0) return undefined;
  // busybox httpd writes the client as "[::ffff:10.1.2.3]" or "[fd00::2]".
  return result.stdout.trim().replace(/^\[|\]$/g, "").replace(/^::ffff:/, "");
}

/** Listens for UDP datagrams in the container and records them, one line each. */
export interface UdpListener {
  received(): string[];
  stop(): void;
}

const UDP_LISTENER = `
const [port, file] = process.argv.slice(1);
const fs = require("fs");
for (const type of ["udp4", "udp6"]) {
  const socket = require("dgram").createSocket({ type, ipv6Only: type === "udp6" });
  socket.on("message", (data, from) => fs.appendFileSync(file, data + " from " + from.address + "\\n"));
  socket.bind(Number(port));
}
`;

export function startUdpListener(container: Container, port: number): UdpListener {
  const dir = mkdtempSync(join(tmpdir(), "pm-udp-"));
  const file = join(dir, "received");
  writeFileSync(file, "");
  const listener: ChildProcess = spawn("ip", ["netns", "exec", container.netns.name, "node", "-e", UDP_LISTENER, String(port), file], {
    stdio: "ignore",
  });
  const received = () => readFileSync(file, "utf8").split("\n").filter((line) => line !== "");
  const stop = () => {
    listener.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    waitFor(() => {
      sendUdp(container.netns.name, "127.0.0.1", port, "ready");
      return received().length > 0;
    }, `UDP listener in ${container.netns.name}`);
  } catch (error) {
    stop();
    throw error;
  }
  return { received, stop };
}

/** Sends one datagram from a namespace (undefined: the host), from a fixed source port when given. */
export function sendUdp(netns: string | undefined, host: string, port: number, text: string, sourcePort?: number): void {
  const script = `
const [host, port, text, sourcePort] = process.argv.slice(1);
const socket = require("dgram").createSocket(host.includes(":") ? "udp6" : "udp4");
const send = () => socket.send(text, Number(port), host, () => socket.close());
if (sourcePort) socket.bind(Number(sourcePort), send); else send();
`;
  const args = ["node", "-e", script, host, String(port), text, ...(sourcePort === undefined ? [] : [String(sourcePort)])];
  const command = netns === undefined ? args : ["ip", "netns", "exec", netns, ...args];
  const result = spawnSync(command[0]!, command.slice(1), { encoding: "utf8", timeout: 10_000 });
  if (result.status !== 0) throw new Error(`sending UDP to ${host}:${port} failed: ${result.stderr}`);
}

export function waitFor(condition: () => boolean, what: string, attempts = 50): void {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (condition()) return;
    spawnSync("sleep", ["0.1"]);
  }
  throw new Error(`${what} did not come up`);
}

/** The nat table of the host as iptables-save prints it: "-A" lines and user chain declarations. */
export function hostNatLines(family: 4 | 6): string[] {
  const output = spawnSync(family === 4 ? "iptables-save" : "ip6tables-save", ["-t", "nat"], { encoding: "utf8" });
  if (output.status !== 0) throw new Error(`iptables-save failed: ${output.stderr}`);
  return output.stdout.split("\n").filter((line) => line.startsWith("-A ") || (line.startsWith(":") && !/^:[A-Z]+ (ACCEPT|DROP)/.test(line)));
}

export type NftJsonObject = Record<string, Record<string, unknown>>;

/** The host's `nft -j list table <family> cni_hostport`, or undefined when there is none. */
export function hostNftTable(family: "ip" | "ip6"): NftJsonObject[] | undefined {
  const output = spawnSync("nft", ["-j", "list", "table", family, "cni_hostport"], { encoding: "utf8" });
  if (output.status !== 0) {
    if (/No such file or directory/.test(output.stderr)) return undefined;
    throw new Error(`nft -j list table failed: ${output.stderr}`);
  }
  return (JSON.parse(output.stdout) as { nftables: NftJsonObject[] }).nftables;
}

/** The rules of the host's cni_hostport table that carry a container's comment: [chain, expressions]. */
export function hostNftRulesOf(family: "ip" | "ip6", containerId: string): [string, unknown][] {
  return (hostNftTable(family) ?? [])
    .filter((entry) => entry.rule?.comment === containerId)
    .map((entry) => [entry.rule!.chain as string, entry.rule!.expr]);
}
