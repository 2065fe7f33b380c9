import { beforeAll, describe, expect, it } from "vitest";
import type { Result } from "../../lib/types/index.ts";
import { GUEST_HOOK_TIMEOUT_MS, mustRunInGuest, type GuestRun } from "./guest.ts";
import type { GuestState } from "./state.ts";

/**
 * The dummy plugin, live: this host's kernel has no dummy links, so the container and its dummy
 * interface are made in a User-Mode Linux guest. (Debian's reference plugins 1.1.1 have no
 * dummy plugin, so there is nothing to compare against.) One guest runs every step; CHECK's
 * answers to a removed route, a removed address and a link set down are recorded in files.
 */
const SUBNET4 = "10.44.0.0/24";
const SUBNET6 = "fd44:4444:4444:4444::/64";

function dummyConfig(cniVersion: string, extra: Record<string, unknown> = {}): object {
  return {
    cniVersion,
    name: "dm",
    type: "dummy",
    ipam: {
      type: "host-local",
      ranges: [[{ subnet: SUBNET4 }], [{ subnet: SUBNET6 }]],
      routes: [{ dst: "0.0.0.0/0" }, { dst: "192.0.2.0/24", gw: "10.44.0.254" }, { dst: "::/0" }],
    },
    ...extra,
  };
}

/** "address/prefix" of an interface's global addresses in a snapshot. */
function globalAddresses(state: GuestState, ifname: string): string[] {
  return (state.addresses.find((entry) => entry.ifname === ifname)?.addr_info ?? [])
    .filter((address) => address.scope === "global")
    .map((address) => `${address.local}/${address.prefixlen}`);
}

describe("dummy in a kernel with dummy links", () => {
  let run: GuestRun;

  beforeAll(async () => {
    run = await mustRunInGuest({
      modules: ["dummy", "ipv6"],
      inputs: {
        "dual.json": dummyConfig("1.0.0", { dns: { nameservers: ["192.0.2.53"] } }),
        "v031.json": dummyConfig("0.3.1"),
      },
      script: `
        # with_prev CONFIG RESULT: the configuration with prevResult, as a runtime hands it to CHECK and DEL.
        with_prev() { local config; config=$(< "$IN/$1"); printf '%s,"prevResult":%s}' "\${config%\\}}" "$(< "$2")" > "$OUT/$3"; }
        # check_status NAME: runs CHECK and records its exit status and output.
        check_status() { local status=0; cni ours CHECK dummy a "$OUT/check.json" > "$1.out" 2>&1 || status=$?; echo "$status" > "$1.status"; }

        container a b
        cni ours ADD dummy a dual.json > a.json
        snapshot added a
        with_prev dual.json a.json check.json
        check_status check-ok

        ip -n a route del 192.0.2.0/24
        check_status check-route
        ip -n a address del 10.44.0.2/24 dev eth0
        check_status check-address
        ip -n a link set eth0 down
        check_status check-down

        cni ours DEL dummy a "$OUT/check.json"
        snapshot deleted a
        ls /var/lib/cni/networks/dm > leases-after-del
        cni ours DEL dummy a "$OUT/check.json" > second-del.out

        # spec 0.3.1, then DEL after the namespace is gone: the lease must still go.
        cni ours ADD dummy b v031.json > b.json
        ip netns delete b
        cni ours DEL dummy b v031.json
        ls /var/lib/cni/networks/dm > leases-after-gone
      `,
    });
  }, GUEST_HOOK_TIMEOUT_MS);

  it("ADD gives the container a dummy link with the IPAM addresses, routes and the configured DNS", () => {
    const result = run.json<Result>("a.json");
    expect(result).toEqual({
      cniVersion: "1.0.0",
      interfaces: [{ name: "eth0", mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/), sandbox: "/run/netns/a" }],
      ips: [
        { interface: 0, address: "10.44.0.2/24", gateway: "10.44.0.1" },
        { interface: 0, address: "fd44:4444:4444:4444::2/64", gateway: "fd44:4444:4444:4444::1" },
      ],
      routes: [{ dst: "0.0.0.0/0" }, { dst: "192.0.2.0/24", gw: "10.44.0.254" }, { dst: "::/0" }],
      dns: { nameservers: ["192.0.2.53"] },
    });
    const state = run.state("added");
    const eth0 = state.links.find((link) => link.ifname === "eth0");
    expect(eth0?.linkinfo?.info_kind).toBe("dummy");
    expect(eth0?.address).toBe(result.interfaces![0]!.mac);
    expect(eth0?.flags).toContain("UP");
    expect(globalAddresses(state, "eth0")).toEqual(["10.44.0.2/24", "fd44:4444:4444:4444::2/64"]);
    const routes = state.routes.map((route) => `${route.dst} via ${route.gateway ?? "-"} dev ${route.dev}`);
    expect(routes).toEqual(
      expect.arrayContaining([
        "default via 10.44.0.1 dev eth0",
        "192.0.2.0/24 via 10.44.0.254 dev eth0",
        "10.44.0.0/24 via - dev eth0",
        "default via fd44:4444:4444:4444::1 dev eth0",
      ]),
    );
  });

  it("CHECK passes after ADD", () => {
    expect(run.text("check-ok.status").trim()).toBe("0");
  });

  it.each([
    ["a removed route", "check-route", "192.0.2.0/24"],
    ["a removed address", "check-address", "10.44.0.2/24"],
    ["the link set down", "check-down", "down"],
  ])("CHECK finds %s (104)", (_, name, named) => {
    expect(run.text(`${name}.status`).trim()).toBe("1");
    // The guest's cni helper reports a failing plugin as "cni: ... exited with 1: <error object>".
    const output = run.text(`${name}.out`);
    const answer = JSON.parse(output.slice(output.indexOf("{")).trim());
    expect(answer.code).toBe(104);
    expect(answer.msg).toContain(named);
  });

  it("DEL removes the dummy link and releases the leases; a second DEL succeeds", () => {
    expect(run.state("deleted").links.map((link) => link.ifname)).toEqual(["lo"]);
    expect(run.text("leases-after-del").split("\n").filter((name) => name.includes("10.44") || name.includes("fd44"))).toEqual([]);
    expect(run.text("second-del.out").trim()).toBe("");
  });

  it("speaks spec 0.3.1, and DEL after the namespace is gone releases the lease", () => {
    const result = run.json<{ cniVersion: string; ips: { version: string; interface: number }[] }>("b.json");
    expect(result.cniVersion).toBe("0.3.1");
    expect(result.ips.map((ip) => [ip.version, ip.interface])).toEqual([["4", 0], ["6", 0]]);
    expect(run.text("leases-after-gone").split("\n").filter((name) => name.includes("10.44") || name.includes("fd44"))).toEqual([]);
  });
});
