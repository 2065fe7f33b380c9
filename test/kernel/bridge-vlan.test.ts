import { beforeAll, describe, expect, it } from "vitest";
import type { Result } from "../../lib/types/index.ts";
import { GUEST_HOOK_TIMEOUT_MS, mustRunInGuest, type GuestRun } from "./guest.ts";
import { portVlans, type GuestState } from "./state.ts";

/**
 * Our bridge plugin's VLAN options, live: this host's kernel has no bridge VLAN filtering, so
 * the containers, the VLAN-filtering bridge and the traffic between them are made in a
 * User-Mode Linux guest. Names and subnets are fixed: the guest's network is its own.
 */
function bridgeConfig(name: string, bridge: string, options: Record<string, unknown>, subnet?: string): object {
  const ipam = subnet ? { ipam: { type: "host-local", ranges: [[{ subnet }]] } } : {};
  return { cniVersion: "1.0.0", name, type: "bridge", bridge, ...options, ...ipam };
}

/** The bridge port (host end of the veth) of a container, from its ADD result. */
function hostPort(result: Result): string {
  const name = result.interfaces?.[1]?.name;
  if (!name) throw new Error(`no host veth in result ${JSON.stringify(result)}`);
  return name;
}

/** The container's IPv4 address, without its prefix length. */
function ipv4Of(result: Result): string {
  const address = result.ips?.find((ip) => ip.address.includes("."))?.address;
  if (!address) throw new Error(`no IPv4 address in result ${JSON.stringify(result)}`);
  return address.split("/")[0]!;
}

describe("bridge VLANs in a kernel with VLAN filtering", () => {
  let ports: GuestRun;
  let gateways: GuestRun;

  beforeAll(async () => {
    [ports, gateways] = await Promise.all([
      // Access and trunk ports on br0, no gateway. a, b (VLAN 10) and c (VLAN 20) share a subnet,
      // so only the VLAN can keep c from a and b; c2 is c's twin, so c itself is known to work.
      // d is on VLAN 20 in a subnet of its own, for the trunk's VLAN 20 sub-interface.
      mustRunInGuest({
        modules: ["bridge", "veth", "8021q"],
        inputs: {
          "vlan10.json": bridgeConfig("vlan10", "br0", { vlan: 10 }, "10.10.0.0/24"),
          "vlan10-as-20.json": bridgeConfig("vlan10", "br0", { vlan: 20 }, "10.10.0.0/24"),
          "vlan10-preserve.json": bridgeConfig("vlan10", "br0", { vlan: 10, preserveDefaultVlan: true }, "10.10.0.0/24"),
          "vlan20.json": bridgeConfig("vlan20", "br0", { vlan: 20 }, "10.20.0.0/24"),
          "trunk.json": bridgeConfig("trunk", "br0", { vlanTrunk: [{ id: 10 }, { minID: 20, maxID: 22 }] }),
        },
        script: `
          container a b c c2 d t p
          for name in a b; do cni ours ADD bridge $name vlan10.json > $name.json; done
          for name in c c2; do cni ours ADD bridge $name vlan10-as-20.json > $name.json; done
          cni ours ADD bridge d vlan20.json > d.json
          cni ours ADD bridge t trunk.json > t.json
          cni ours ADD bridge p vlan10-preserve.json > p.json

          # The trunk's container tags its own frames: a VLAN sub-interface per VLAN it uses.
          ip -n t -batch - <<EOF
            link add link eth0 name eth0.10 up type vlan id 10
            address add 10.10.0.100/24 dev eth0.10
            link add link eth0 name eth0.20 up type vlan id 20
            address add 10.20.0.100/24 dev eth0.20
          EOF

          reach "a -> b" a $(ipv4_of b.json)
          reach "c -> a" c $(ipv4_of a.json)
          reach "c -> b" c $(ipv4_of b.json)
          reach "c -> c2" c $(ipv4_of c2.json)
          reach "t VLAN 10 -> a" t $(ipv4_of a.json)
          reach "t VLAN 20 -> d" t $(ipv4_of d.json)
          snapshot host

          cni ours DEL bridge a vlan10.json
          snapshot after-del
          ls /var/lib/cni/networks/vlan10 > vlan10-leases-after-del
        `,
      }),
      // VLAN gateways on br1: g1 and g2 on VLAN 30, h on VLAN 31, the VLANs routed by the host.
      mustRunInGuest({
        modules: ["bridge", "veth"],
        inputs: {
          "gw30.json": bridgeConfig("gw30", "br1", { vlan: 30, isDefaultGateway: true }, "10.30.0.0/24"),
          "gw31.json": bridgeConfig("gw31", "br1", { vlan: 31, isDefaultGateway: true }, "10.31.0.0/24"),
        },
        script: `
          container g1 g2 h
          cni ours ADD bridge g1 gw30.json > g1.json
          cni ours ADD bridge g2 gw30.json > g2.json
          cni ours ADD bridge h gw31.json > h.json
          reach "g1 -> its gateway" g1 10.30.0.1
          reach "g1 -> g2" g1 $(ipv4_of g2.json)
          reach "g1 -> h on VLAN 31" g1 $(ipv4_of h.json)
          snapshot host
          snapshot g1 g1
        `,
      }),
    ]);
  }, GUEST_HOOK_TIMEOUT_MS);

  describe("access and trunk ports", () => {
    let host: GuestState;
    beforeAll(() => {
      host = ports.state("host");
    });

    it("lets two ports on VLAN 10 reach each other", () => {
      expect(ports.reachability()).toMatchObject({ "a -> b": true });
    });

    it("keeps a port on VLAN 20 from them, though it shares their subnet and reaches its VLAN 20 twin", () => {
      expect(ports.reachability()).toMatchObject({ "c -> a": false, "c -> b": false, "c -> c2": true });
    });

    it("lets a trunk port reach ports on both VLANs: 10 listed by id, 20 in a listed range", () => {
      expect(ports.reachability()).toMatchObject({ "t VLAN 10 -> a": true, "t VLAN 20 -> d": true });
    });

    it("makes a trunk port carry its VLANs tagged and VLAN 1 untagged as its native VLAN", () => {
      expect(portVlans(host, hostPort(ports.json<Result>("t.json")))).toEqual(["1 PVID untagged", "10", "20", "21", "22"]);
    });

    it("makes an access port untagged in its VLAN only: the default VLAN is removed", () => {
      expect(portVlans(host, hostPort(ports.json<Result>("a.json")))).toEqual(["10 PVID untagged"]);
      expect(portVlans(host, hostPort(ports.json<Result>("c.json")))).toEqual(["20 PVID untagged"]);
    });

    it("keeps the default VLAN on the port with preserveDefaultVlan", () => {
      expect(portVlans(host, hostPort(ports.json<Result>("p.json")))).toEqual(["1 untagged", "10 PVID untagged"]);
    });

    it("turns VLAN filtering on for the bridge it creates", () => {
      const bridge = host.links.find((link) => link.ifname === "br0");
      expect(bridge?.linkinfo?.info_data?.vlan_filtering).toBe(1);
    });

    it("removes the port and releases the lease on DEL", () => {
      const portsLeft = ports.state("after-del").vlans.map((port) => port.ifname);
      expect(portsLeft).not.toContain(hostPort(ports.json<Result>("a.json")));
      expect(portsLeft).toContain(hostPort(ports.json<Result>("b.json")));
      expect(ports.text("vlan10-leases-after-del")).not.toContain(ipv4Of(ports.json<Result>("a.json")));
      expect(ports.text("vlan10-leases-after-del")).toContain(ipv4Of(ports.json<Result>("b.json")));
    });
  });

  describe("VLAN gateways", () => {
    it("puts the gateway on <bridge>.<vlan>, lists it in the result and shares it between the VLAN's containers", () => {
      const [g1, g2] = [gateways.json<Result>("g1.json"), gateways.json<Result>("g2.json")];
      const gateway = g1.interfaces?.find((intf) => intf.name === "br1.30");
      expect(gateway).toBeDefined();
      expect(g2.interfaces?.find((intf) => intf.name === "br1.30")).toEqual(gateway);
      const addresses = gateways.state("host").addresses.find((entry) => entry.ifname === "br1.30")?.addr_info ?? [];
      expect(addresses.filter((a) => a.family === "inet").map((a) => `${a.local}/${a.prefixlen}`)).toEqual(["10.30.0.1/24"]);
    });

    it("makes the gateway interface's bridge port an access port of its VLAN", () => {
      const host = gateways.state("host");
      const gatewayPeer = host.links.find((link) => link.ifname === "br1.30")?.link;
      expect(gatewayPeer).toMatch(/^veth/);
      expect(portVlans(host, gatewayPeer!)).toEqual(["30 PVID untagged"]);
    });

    it("lets a container reach its gateway, and containers on other VLANs through theirs", () => {
      expect(gateways.reachability()).toEqual({ "g1 -> its gateway": true, "g1 -> g2": true, "g1 -> h on VLAN 31": true });
      const defaultRoute = gateways.state("g1").routes.find((route) => route.dst === "default");
      expect(defaultRoute).toMatchObject({ gateway: "10.30.0.1", dev: "eth0" });
    });
  });
});
