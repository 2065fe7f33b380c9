import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { clearStaleUdpEntries, deleteUdpEntries } from "../../../lib/firewall/conntrack/index.ts";
import { setupPortMappings } from "../../../lib/firewall/index.ts";
import { NetNS } from "../../../lib/netns/index.ts";
import { sleepSync } from "../../../lib/sys/index.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { useHostTopology } from "./host.ts";
import {
  freePort,
  portmap,
  portmapConfig,
  sendUdp,
  startUdpListener,
  waitFor,
  type Container,
  type Topology,
  type UdpListener,
} from "./topology.ts";

/** Conntrack's table of a namespace (/proc/net/nf_conntrack as seen from inside it). */
function conntrackLines(netns?: TestNetns): string[] {
  const text = netns ? netns.exec(["cat", "/proc/net/nf_conntrack"]) : readFileSync("/proc/net/nf_conntrack", "utf8");
  return text.split("\n").filter((line) => line !== "");
}

/** Entries for UDP sent to `port` (the original direction's destination port is the first dport=). */
function udpEntriesTo(lines: string[], port: number): string[] {
  return lines.filter((line) => / udp /.test(line) && new RegExp(`^[^\\[]*? dport=${port} `).test(line));
}

/**
 * This kernel has conntrack over netlink (CONFIG_NF_CT_NETLINK=y, contrary to what was
 * expected), so the clearing is exercised for real. A kernel without it cannot be had here: the
 * detection of one is covered by the unit tests (test/unit/portmap/conntrack.test.ts).
 */
describe("deleting UDP conntrack entries over netlink, in a namespace of the test's own", () => {
  let ns: TestNetns;

  beforeAll(() => {
    ns = createNetns("pmct");
    ns.exec(["ip", "link", "set", "lo", "up"]);
    // Conntrack only tracks a namespace's traffic once a rule there needs it.
    ns.exec(["iptables", "-A", "INPUT", "-m", "conntrack", "--ctstate", "NEW", "-j", "ACCEPT"]);
    ns.exec(["ip6tables", "-A", "INPUT", "-m", "conntrack", "--ctstate", "NEW", "-j", "ACCEPT"]);
  });
  afterAll(() => ns?.remove());

  it("deletes the entries of one family for the given UDP ports, and nothing else", () => {
    for (const [host, port] of [["127.0.0.1", 5001], ["127.0.0.1", 5002], ["::1", 5001]] as const) sendUdp(ns.name, host, port, "x");
    ns.exec(["sh", "-c", "echo x | timeout 1 busybox nc 127.0.0.1 5001 || true"]); // a TCP attempt to the same port
    const before = conntrackLines(ns);
    expect(udpEntriesTo(before, 5001)).toHaveLength(2);

    const handle = NetNS.open(ns.path);
    try {
      expect(handle.run(() => deleteUdpEntries(4, [5001]))).toBe(1);
      const after = conntrackLines(ns);
      expect(udpEntriesTo(after, 5001)).toEqual([expect.stringMatching(/^ipv6 /)]);
      expect(udpEntriesTo(after, 5002)).toHaveLength(1);
      expect(after.filter((line) => / tcp /.test(line))).toEqual(before.filter((line) => / tcp /.test(line)));
      expect(handle.run(() => deleteUdpEntries(6, [5001]))).toBe(1);
      expect(udpEntriesTo(conntrackLines(ns), 5001)).toEqual([]);
    } finally {
      handle.close();
    }
  });
});

/**
 * The failure the clearing prevents, for real in the host namespace: UDP from another host to a
 * host port before it is mapped leaves a conntrack entry without NAT, and every later datagram
 * of that flow (same source port) follows that entry past the new DNAT rule.
 */
describe("stale UDP flows to a mapped host port", () => {
  const host = useHostTopology({ dualStack: false });
  let topology: Topology;
  const listeners: UdpListener[] = [];
  const CONTAINER_PORT = 9999;

  beforeAll(() => {
    topology = host.topology();
  });
  afterEach(() => {
    for (const listener of listeners.splice(0)) listener.stop();
    host.removeContainers();
  });

  function containerWithListener(): { container: Container; listener: UdpListener } {
    const container = host.newContainer();
    const listener = startUdpListener(container, CONTAINER_PORT);
    listeners.push(listener);
    return { container, listener };
  }

  /** Sends from the remote's fixed source port, so every datagram belongs to one flow. */
  const sendFromRemote = (port: number, sourcePort: number, text: string) => sendUdp(topology.remote.name, topology.host.v4, port, text, sourcePort);
  const arrived = (listener: UdpListener, text: string) => listener.received().some((line) => line.startsWith(`${text} from`));

  it("blackholes the flow while its entry stays, and delivers once the entry is cleared", () => {
    const { container, listener } = containerWithListener();
    const [hostPort, sourcePort] = [freePort(), freePort()];
    sendFromRemote(hostPort, sourcePort, "before");
    expect(udpEntriesTo(conntrackLines(), hostPort)).toHaveLength(1);

    // Rules alone, without clearing: the flow keeps its entry and never reaches the container.
    setupPortMappings({
      network: topology.network.name,
      containerId: container.id,
      addresses: [container.result.ips[0]!.address],
      mappings: [{ hostPort, containerPort: CONTAINER_PORT, protocol: "udp" }],
      settings: { snat: true, masqAll: false, markMasqBit: 13, conditionsV4: [], conditionsV6: [] },
    });
    sendFromRemote(hostPort, sourcePort, "blackholed");
    sleepSync(500);
    expect(arrived(listener, "blackholed")).toBe(false);

    clearStaleUdpEntries([hostPort], [4]);
    sendFromRemote(hostPort, sourcePort, "delivered");
    waitFor(() => arrived(listener, "delivered"), "the datagram after clearing");
  });

  it("is cleared by portmap ADD, and the flow's DNATed entry by DEL", () => {
    const { container, listener } = containerWithListener();
    const [hostPort, sourcePort] = [freePort(), freePort()];
    const config = portmapConfig(topology.network, [{ hostPort, containerPort: CONTAINER_PORT, protocol: "udp" }], {}, container.result);
    sendFromRemote(hostPort, sourcePort, "before");
    expect(udpEntriesTo(conntrackLines(), hostPort)).toHaveLength(1);

    const add = portmap("ADD", container, config);
    expect([add.status, add.stderr]).toEqual([0, ""]);
    expect(udpEntriesTo(conntrackLines(), hostPort)).toEqual([]);
    sendFromRemote(hostPort, sourcePort, "after-add");
    waitFor(() => arrived(listener, "after-add"), "the datagram after ADD");
    expect(udpEntriesTo(conntrackLines(), hostPort)).toEqual([expect.stringContaining(`src=${container.v4} dst=${topology.remoteAddress.v4} sport=${CONTAINER_PORT}`)]);

    expect(portmap("DEL", container, config).status).toBe(0);
    expect(udpEntriesTo(conntrackLines(), hostPort)).toEqual([]);
  });
});
