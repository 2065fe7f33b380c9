import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { callPlugin, mustCall } from "../../helpers/cni.ts";
import { ipJson, linkExists, type TestNetns } from "../../helpers/netns.ts";
import { ifbNameFor, qdiscsOf } from "../bandwidth/harness.ts";
import { lockHost, rememberSharedState } from "../portmap/host.ts";
import {
  createTopology,
  fetchSeenAddress,
  forgetPortMappings,
  freePort,
  hostNatLines,
  hostNftRulesOf,
  portmap,
  portmapConfig,
  startWebServer,
  type Topology,
} from "../portmap/topology.ts";
import { addPtpContainer, createPtpNetwork, ptpConfigFor, type PtpContainer, type PtpNetwork } from "./harness.ts";

const WEB_PORT = 8080;

/**
 * ptp chained with the meta plugins that work on its result: portmap forwards a host port to a
 * web server in a ptp container (the host end is the gateway, so the reply comes back through
 * the host's routing table rather than a bridge), tuning changes the container end, bandwidth
 * shapes the host end that ptp lists first in its result.
 */
describe.each(["iptables", "nftables"] as const)("ptp + portmap with %s carries real traffic", (backend) => {
  let unlock: (() => void) | undefined;
  let restoreShared: (() => void) | undefined;
  let topology: Topology;
  let container: PtpContainer;
  const namespaces: TestNetns[] = [];
  let stopServer: (() => void) | undefined;
  const hostPort = freePort();
  const config = () => portmapConfig(topology.network, [{ hostPort, containerPort: WEB_PORT, protocol: "tcp" }], { backend }, container.result);
  const url = (host: string) => `http://${host.includes(":") ? `[${host}]` : host}:${hostPort}/cgi-bin/addr`;

  beforeAll(async () => {
    unlock = await lockHost();
    restoreShared = rememberSharedState();
    topology = createTopology();
    container = addPtpContainer({ config: () => ptpConfigFor(topology.network) }, namespaces);
    stopServer = startWebServer(container, WEB_PORT).stop;
    const added = portmap("ADD", container, config());
    expect(added.status, added.stdout).toBe(0);
  }, 600_000);

  afterAll(() => {
    stopServer?.();
    if (container) {
      forgetPortMappings(topology.network, container);
      container.call("DEL");
    }
    for (const netns of namespaces.splice(0)) netns.remove();
    topology?.cleanup();
    restoreShared?.();
    unlock?.();
  });

  it("reaches the container from another host over IPv4 and IPv6, which it sees as the client", () => {
    expect(fetchSeenAddress(topology.remote.name, url(topology.host.v4))).toBe(topology.remoteAddress.v4);
    expect(fetchSeenAddress(topology.remote.name, url(topology.host.v6))).toBe(topology.remoteAddress.v6);
  });

  it("reaches the container from the host itself through 127.0.0.1", () => {
    expect(fetchSeenAddress(undefined, url("127.0.0.1"))).toBeDefined();
  });

  it("CHECK passes for both plugins, and portmap DEL removes the mapping", () => {
    expect(portmap("CHECK", container, config()).status).toBe(0);
    expect(container.call("CHECK", { config: { ...container.config, prevResult: container.result } }).status).toBe(0);
    expect(portmap("DEL", container, config()).status).toBe(0);
    const rules = backend === "iptables" ? [...hostNatLines(4), ...hostNatLines(6)].filter((line) => line.includes(container.id)) : hostNftRulesOf("ip", container.id);
    expect(rules).toEqual([]);
    expect(fetchSeenAddress(topology.remote.name, url(topology.host.v4), 2)).toBeUndefined();
  });
});

describe("ptp + tuning and ptp + bandwidth", () => {
  let network: PtpNetwork;
  const namespaces: TestNetns[] = [];
  let scratch: string;

  afterEach(() => {
    for (const netns of namespaces.splice(0)) netns.remove();
    network.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  function setUp(): PtpContainer {
    network = createPtpNetwork();
    scratch = mkdtempSync(join(tmpdir(), "pt-chain-"));
    return addPtpContainer(network, namespaces);
  }

  it("tuning sets the container end's MTU and a sysctl on ptp's result, restores them on DEL, and the link still carries traffic", () => {
    const c = setUp();
    const tuning = {
      cniVersion: "1.0.0",
      name: network.name,
      type: "tuning",
      mtu: 1280,
      sysctl: { "net.ipv4.conf.eth0.rp_filter": "2" },
      dataDir: scratch,
      prevResult: c.result,
    };
    const call = { containerId: c.id, netns: c.netns.path, ifname: "eth0", config: tuning };
    const result = mustCall("tuning", { ...call, command: "ADD" }).json;
    expect(result.interfaces).toEqual(c.result.interfaces);
    expect(ipJson<{ mtu: number }[]>(["link", "show", "dev", "eth0"], c.netns.name)[0]!.mtu).toBe(1280);
    expect(c.netns.exec(["sysctl", "-n", "net.ipv4.conf.eth0.rp_filter"]).trim()).toBe("2");
    c.netns.exec(["ping", "-c", "1", "-W", "2", network.gateway(4)]);
    c.netns.exec(["ping", "-6", "-c", "1", "-W", "2", network.gateway(6)]);
    mustCall("tuning", { ...call, command: "CHECK" });
    mustCall("tuning", { ...call, command: "DEL" });
    expect(ipJson<{ mtu: number }[]>(["link", "show", "dev", "eth0"], c.netns.name)[0]!.mtu).toBe(1500);
    expect(c.call("DEL").status).toBe(0);
  });

  it("bandwidth shapes the host end ptp lists (tbf) and the container's egress (ifb), and DEL removes both", () => {
    const c = setUp();
    const bandwidth = {
      cniVersion: "1.0.0",
      name: network.name,
      type: "bandwidth",
      ingressRate: 20_000_000,
      ingressBurst: 40_000,
      egressRate: 30_000_000,
      egressBurst: 60_000,
      prevResult: c.result,
    };
    const call = { containerId: c.id, netns: c.netns.path, ifname: "eth0", config: bandwidth };
    mustCall("bandwidth", { ...call, command: "ADD" });
    const ifb = ifbNameFor(network.name, c.id);
    expect(qdiscsOf(c.hostVeth)).toContainEqual(expect.objectContaining({ kind: "tbf", root: true }));
    expect(qdiscsOf(ifb)).toContainEqual(expect.objectContaining({ kind: "tbf", root: true }));
    c.netns.exec(["ping", "-c", "1", "-W", "2", network.gateway(4)]);
    mustCall("bandwidth", { ...call, command: "CHECK" });
    mustCall("bandwidth", { ...call, command: "DEL" });
    expect(linkExists(ifb)).toBe(false);
    expect(callPlugin("ptp", { ...call, command: "DEL", config: { ...c.config, prevResult: c.result } }).status).toBe(0);
    expect(linkExists(c.hostVeth)).toBe(false);
    expect(existsSync(join(network.dataDir, network.name, c.v4))).toBe(false);
  });
});
