import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useHostTopology } from "./host.ts";
import {
  fetchSeenAddress,
  freePort,
  portmap,
  portmapConfig,
  sendUdp,
  startUdpListener,
  startWebServer,
  waitFor,
  type Container,
  type Topology,
  type UdpListener,
  type WebServer,
} from "./topology.ts";

const WEB_PORT = 8080;
const UDP_PORT = 9999;

/**
 * A web server in container A answers on a host port, through our bridge + host-local + portmap
 * chain in the host namespace, from everywhere a client can be: another host, a neighbour on
 * the bridge, the host itself. Its CGI tells which client address it saw, which shows where
 * masquerading happened.
 */
describe.each(["iptables", "nftables"] as const)("port mappings with %s carry real traffic", (backend) => {
  const host = useHostTopology();
  let topology: Topology;
  let a: Container;
  let neighbour: Container;
  let server: WebServer;
  let udp: UdpListener;
  let added: { status: number; json: unknown };
  const tcpPort = freePort();
  const udpPort = freePort();
  const config = () =>
    portmapConfig(
      topology.network,
      [
        { hostPort: tcpPort, containerPort: WEB_PORT, protocol: "tcp" },
        { hostPort: udpPort, containerPort: UDP_PORT, protocol: "udp" },
      ],
      { backend },
      a.result,
    );
  const url = (host: string) => `http://${host.includes(":") ? `[${host}]` : host}:${tcpPort}/cgi-bin/addr`;
  const gateway = (family: 4 | 6) => (family === 4 ? `${topology.network.subnets.v4Prefix}.1` : `${topology.network.subnets.v6Prefix}::1`);

  beforeAll(() => {
    topology = host.topology();
    a = host.newContainer();
    neighbour = host.newContainer();
    server = startWebServer(a, WEB_PORT);
    udp = startUdpListener(a, UDP_PORT);
    added = portmap("ADD", a, config());
  });

  afterAll(() => {
    server?.stop();
    udp?.stop();
  });

  it("ADD succeeds and passes the bridge's result through unchanged", () => {
    expect(added.status).toBe(0);
    expect(added.json).toEqual(a.result);
  });

  it("reaches the container from another host, which it sees as the client (no SNAT)", () => {
    expect(fetchSeenAddress(topology.remote.name, url(topology.host.v4))).toBe(topology.remoteAddress.v4);
  });

  it("reaches the container from a neighbour on the bridge through the host's address (hairpin)", () => {
    // iptables masquerades hairpin traffic from the container's whole subnet (the reference's
    // "-s <subnet>" mark rule), so the container sees the bridge's address. The reference's
    // nftables layout only masquerades the container talking to itself: the neighbour's
    // request arrives with its own address, and the answer goes straight back over the bridge,
    // where br_netfilter (loaded here) lets conntrack undo the DNAT.
    const expected = backend === "iptables" ? gateway(4) : neighbour.v4;
    expect(fetchSeenAddress(neighbour.netns.name, url(topology.host.v4))).toBe(expected);
  });

  it("reaches the container from itself through the host's address, masqueraded to the bridge's address", () => {
    expect(fetchSeenAddress(a.netns.name, url(topology.host.v4))).toBe(gateway(4));
  });

  it("reaches the container from the host via 127.0.0.1, masqueraded to the bridge's address", () => {
    expect(fetchSeenAddress(undefined, url("127.0.0.1"))).toBe(gateway(4));
  });

  it("set route_localnet on the bridge, which routes to the container", () => {
    expect(readFileSync(`/proc/sys/net/ipv4/conf/${topology.network.bridge}/route_localnet`, "utf8").trim()).toBe("1");
  });

  it("reaches the container from the host via the host's own address on the test veth", () => {
    expect(fetchSeenAddress(undefined, url(topology.host.v4))).toBe(topology.host.v4);
  });

  it("delivers a UDP datagram from another host", () => {
    sendUdp(topology.remote.name, topology.host.v4, udpPort, `hello-${backend}-v4`);
    waitFor(() => udp.received().includes(`hello-${backend}-v4 from ${topology.remoteAddress.v4}`), "the datagram");
  });

  describe("IPv6", () => {
    it("reaches the container from another host", () => {
      expect(fetchSeenAddress(topology.remote.name, url(topology.host.v6))).toBe(topology.remoteAddress.v6);
    });

    it("reaches the container from a neighbour through the host's address (hairpin)", () => {
      const expected = backend === "iptables" ? gateway(6) : neighbour.v6;
      expect(fetchSeenAddress(neighbour.netns.name, url(topology.host.v6))).toBe(expected);
    });

    it("reaches the container from itself through the host's address, masqueraded", () => {
      expect(fetchSeenAddress(a.netns.name, url(topology.host.v6))).toBe(gateway(6));
    });

    it("reaches the container from the host via the host's own address", () => {
      expect(fetchSeenAddress(undefined, url(topology.host.v6))).toBe(topology.host.v6);
    });

    it("does not reach it via ::1, as with the reference: IPv6 has no route_localnet, so ::1 cannot leave lo", () => {
      expect(fetchSeenAddress(undefined, url("::1"), 2)).toBeUndefined();
    });

    it("delivers a UDP datagram from another host", () => {
      sendUdp(topology.remote.name, topology.host.v6, udpPort, `hello-${backend}-v6`);
      waitFor(() => udp.received().includes(`hello-${backend}-v6 from ${topology.remoteAddress.v6}`), "the datagram");
    });
  });

  it("stops forwarding after DEL", () => {
    expect(portmap("DEL", a, config()).status).toBe(0);
    expect(fetchSeenAddress(topology.remote.name, url(topology.host.v4), 2)).toBeUndefined();
    expect(fetchSeenAddress(undefined, url("127.0.0.1"), 2)).toBeUndefined();
  });
});
