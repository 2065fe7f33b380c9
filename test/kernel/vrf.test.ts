import { beforeAll, describe, expect, it } from "vitest";
import { GUEST_HOOK_TIMEOUT_MS, mustRunInGuest, type GuestRun } from "./guest.ts";
import type { IpLink, IpRoute } from "./state.ts";

/**
 * The vrf plugin, live: this host's kernel has no vrf module, so one User-Mode Linux guest runs
 * ours and the reference (/usr/lib/cni/vrf, 1.1.1) on containers set up alike by hand (the
 * addresses and routes a main plugin leaves), and records the state for the host to compare.
 * Container a (ours) and b (reference): eth0, then net1 into VRF vr0; c (ours) and d (reference):
 * a VRF with a configured table. Names and subnets are fixed: the guest's network is its own.
 */

const prevResult = { cniVersion: "1.0.0", interfaces: [{ name: "eth0", sandbox: "/run/netns/x" }], ips: [{ address: "10.1.1.2/24", gateway: "10.1.1.1", interface: 0 }] };
const vrfConfig = (extra: object = {}) => ({ cniVersion: "1.0.0", name: "vrfnet", type: "vrf", vrfname: "vr0", prevResult, ...extra });

type Route = IpRoute & { table?: string; type?: string };
interface Observed {
  links: IpLink[];
  routes4: Route[];
  routes6: Route[];
}

describe("vrf in a kernel with VRFs", () => {
  let run: GuestRun;

  beforeAll(async () => {
    run = await mustRunInGuest({
      modules: ["veth", "vrf", "ipv6"],
      inputs: {
        "vrf.json": vrfConfig(),
        "vrf-table42.json": vrfConfig({ table: 42 }),
        "vrf-table43.json": vrfConfig({ table: 43 }),
      },
      script: `
        container a b c d
        # Each container as a main plugin leaves it: eth0 (10.1.1.2, IPv6 fd01::2, a default
        # route and one through the gateway) and net1. Only a's host ends have addresses: a is
        # the one that pings the guest's 10.9.9.9.
        for n in a b c d; do
          ip -batch - <<EOF
            link add h$n type veth peer name eth0 netns $n
            link add h\${n}1 type veth peer name net1 netns $n
            link set h$n up
            link set h\${n}1 up
        EOF
          ip -n $n -batch - <<EOF
            link set lo up
            link set eth0 up
            link set net1 up
            address add 10.1.1.2/24 dev eth0
            address add 10.1.2.2/24 dev net1
            address add fd01::2/64 dev eth0 nodad
            route add default via 10.1.1.1 dev eth0
            route add 192.168.7.0/24 via 10.1.1.1 dev eth0
            route add ::/0 via fd01::1 dev eth0
        EOF
        done
        ip -batch - <<EOF
          address add 10.1.1.1/24 dev ha
          address add 10.9.9.9/32 dev lo
          link set lo up
        EOF

        dump() {
          # Link-local addresses come back after the link cycles, once their DAD ends.
          for _ in 1 2 3 4 5 6 7 8 9 10; do
            [[ -z $(ip -n $2 -6 address show tentative) ]] && break
            sleep 0.3
          done
          ip -n $2 -j -d link show > $1.links.json
          ip -n $2 -j -4 route show table all > $1.routes4.json
          ip -n $2 -j -6 route show table all > $1.routes6.json
        }
        fails() { # OUT COMMAND IFNAME CONTAINER CONFIG: a call of ours expected to fail
          CNI_COMMAND=$2 CNI_CONTAINERID=$4 CNI_NETNS=/run/netns/$4 CNI_IFNAME=$3 CNI_PATH=$OURS $OURS/vrf < $IN/$5 > $1 || true
        }

        cni ours ADD vrf a vrf.json > a-add.json
        cni reference ADD vrf b vrf.json > b-add.json
        dump a-eth0 a
        dump b-eth0 b
        ping_vrf() { # LABEL CONTAINER DEVICE
          local answer=no
          if ip netns exec $2 ping -q -c 1 -i 0.2 -w 2 \${3:+-I $3} 10.9.9.9 > /dev/null 2>&1; then answer=yes; fi
          printf '%s\\t%s\\n' "$1" "$answer" >> reach.tsv
        }
        ping_vrf "a in vr0 -> 10.9.9.9" a vr0
        ping_vrf "a in the main table -> 10.9.9.9" a ""
        cni ours CHECK vrf a vrf.json

        cni ours ADD vrf a vrf.json net1 > /dev/null
        cni reference ADD vrf b vrf.json net1 > /dev/null
        dump a-both a
        dump b-both b
        cni ours DEL vrf a vrf.json
        cni reference DEL vrf b vrf.json
        dump a-net1-left a
        dump b-net1-left b
        cni ours DEL vrf a vrf.json net1
        cni reference DEL vrf b vrf.json net1
        dump a-none a
        dump b-none b
        cni ours DEL vrf a vrf.json net1

        cni ours ADD vrf c vrf-table42.json > /dev/null
        cni reference ADD vrf d vrf-table42.json > /dev/null
        dump c d
        dump d d
        dump c c
        fails c-conflict.json ADD net1 c vrf-table43.json
        ip -n c link set eth0 nomaster
        fails c-check.json CHECK eth0 c vrf-table42.json
        cni ours DEL vrf c vrf-table42.json
        ip -n c -j -d link show > c-after-del.links.json
      `,
    });
  }, GUEST_HOOK_TIMEOUT_MS);

  const observed = (name: string): Observed => ({
    links: run.json<IpLink[]>(`${name}.links.json`),
    routes4: run.json<Route[]>(`${name}.routes4.json`),
    routes6: run.json<Route[]>(`${name}.routes6.json`),
  });
  const link = (state: Observed, name: string) => state.links.find((entry) => entry.ifname === name);
  const vrfTable = (state: Observed) => link(state, "vr0")?.linkinfo?.info_data?.table;
  /** Routes without what differs run to run, sorted. */
  const routes = (list: Route[]) =>
    list
      // A link-local address comes from the random MAC.
      .map(({ dst, gateway, dev, table, protocol, scope, type, metric }) => ({ dst: dst.replace(/^fe80::[0-9a-f:]+$/, "fe80::<from the MAC>"), gateway, dev, table, protocol, scope, type, metric }))
      .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
  const members = (state: Observed) => state.links.filter((entry) => entry.master === "vr0").map((entry) => entry.ifname).sort();

  it("creates the VRF in the container with the first free table and enslaves the interface", () => {
    const state = observed("a-eth0");
    expect(link(state, "vr0")).toMatchObject({ operstate: "UP", linkinfo: { info_kind: "vrf" } });
    expect(vrfTable(state)).toBe(1);
    expect(members(state)).toEqual(["eth0"]);
  });

  it("moves the interface's routes into the VRF's table, the IPv6 address with them", () => {
    const state = observed("a-eth0");
    const inTable = (list: Route[]) => list.filter((route) => route.table === "1" && route.dev === "eth0").map((route) => route.dst);
    expect(inTable(state.routes4)).toEqual(expect.arrayContaining(["default", "10.1.1.0/24", "192.168.7.0/24", "10.1.1.2"]));
    expect(inTable(state.routes6)).toEqual(expect.arrayContaining(["default", "fd01::/64", "fd01::2"]));
    expect(state.routes4.filter((route) => route.table === undefined && route.dev === "eth0")).toEqual([]);
  });

  it("lets a ping from inside the VRF through, and not one from the main table", () => {
    expect(run.reachability()).toEqual({ "a in vr0 -> 10.9.9.9": true, "a in the main table -> 10.9.9.9": false });
  });

  it("passes the previous result through, as the reference", () => {
    expect(run.json("a-add.json")).toEqual(run.json("b-add.json"));
    expect(run.json("a-add.json")).toMatchObject(prevResult);
  });

  /**
   * Routes through a gateway in the VRF's table: 1.1.1 loses them when the interface is
   * enslaved (the reference moves them since 1.5); we move them, as the reference at HEAD.
   */
  const gatewayRoutesInVrf = (list: Route[]) => list.filter((route) => route.gateway !== undefined && route.table === "1");
  const withoutGatewayRoutesInVrf = (list: Route[]) => list.filter((route) => !gatewayRoutesInVrf([route]).length);

  it("leaves the container as the reference does, at every step, except for the gateways' routes 1.1.1 loses", () => {
    for (const step of ["eth0", "both", "net1-left", "none"]) {
      const [ours, reference] = [observed(`a-${step}`), observed(`b-${step}`)];
      expect(members(ours), step).toEqual(members(reference));
      expect(vrfTable(ours), step).toEqual(vrfTable(reference));
      expect(routes(withoutGatewayRoutesInVrf(ours.routes4)), step).toEqual(routes(reference.routes4));
      expect(routes(withoutGatewayRoutesInVrf(ours.routes6)), step).toEqual(routes(reference.routes6));
    }
    const [ours, reference] = [observed("a-eth0"), observed("b-eth0")];
    expect(gatewayRoutesInVrf(reference.routes4)).toEqual([]);
    expect(gatewayRoutesInVrf(ours.routes4).map((route) => route.dst).sort()).toEqual(["192.168.7.0/24", "default"]);
    expect(gatewayRoutesInVrf(ours.routes6).map((route) => route.dst)).toEqual(["default"]);
  });

  it("puts a second interface into the same VRF, and deletes the VRF when the last one leaves", () => {
    expect(members(observed("a-both"))).toEqual(["eth0", "net1"]);
    expect(members(observed("a-net1-left"))).toEqual(["net1"]);
    expect(link(observed("a-none"), "vr0")).toBeUndefined();
  });

  it("creates the VRF with the configured table, as the reference", () => {
    expect(vrfTable(observed("c"))).toBe(42);
    expect(vrfTable(observed("d"))).toBe(42);
  });

  it("refuses an existing VRF of another table with code 7 naming table", () => {
    expect(run.json("c-conflict.json")).toMatchObject({ code: 7, msg: expect.stringContaining("table=43") });
  });

  it("CHECK finds an interface taken out of the VRF", () => {
    expect(run.json("c-check.json")).toMatchObject({ code: 104, msg: expect.stringContaining("eth0 is not in VRF vr0") });
  });

  it("DEL deletes the VRF it finds without members", () => {
    expect(run.json<IpLink[]>("c-after-del.links.json").find((entry) => entry.ifname === "vr0")).toBeUndefined();
  });
});
