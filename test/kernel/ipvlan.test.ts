import { beforeAll, describe, expect, it } from "vitest";
import type { Result } from "../../lib/types/index.ts";
import { mustRunInGuest, type GuestRun } from "./guest.ts";
import type { GuestState } from "./state.ts";

/**
 * ipvlan, live: this host's kernel has no ipvlan, so one User-Mode Linux guest runs every check
 * (ours in l2, l3 and l3s mode, chained, with the default route's master, CHECK and DEL) and the
 * same configurations through the reference plugin (Debian's 1.1.1), each suite on masters of
 * its own (veth ends, the other end up), each suite's attachments then deleted by the other.
 */
function ipvlanConfig(suite: string, name: string, options: Record<string, unknown>, subnet?: string): object {
  const ipam = subnet ? { ipam: { type: "host-local", subnet, dataDir: `/run/${suite}-leases` } } : {};
  return { cniVersion: "1.0.0", name, type: "ipvlan", ...options, ...ipam };
}

/** A chained configuration: no master and no ipam, prevResult naming the master and the address. */
function chainedConfig(master: string, address: string): object {
  return {
    cniVersion: "1.0.0",
    name: "chained",
    type: "ipvlan",
    prevResult: { cniVersion: "1.0.0", interfaces: [{ name: master }], ips: [{ address, interface: 0 }] },
  };
}

const SCENARIOS = {
  l2: { mode: "l2", subnet: "10.2.0.0/24" },
  l3: { mode: "l3", subnet: "10.3.0.0/24" },
  l3s: { mode: "l3s", mtu: 1400, subnet: "10.4.0.0/24" },
} as const;

function inputs(): Record<string, object> {
  const files: Record<string, object> = {};
  for (const [suite, prefix] of [["ours", "o"], ["reference", "r"]] as const) {
    for (const [name, { subnet, ...options }] of Object.entries(SCENARIOS)) {
      files[`${suite}-${name}.json`] = ipvlanConfig(suite, name, { master: `${prefix}${name}`, ...options }, subnet);
    }
    files[`${suite}-chained-1.json`] = chainedConfig(`${prefix}chain`, "10.5.0.11/24");
    files[`${suite}-chained-2.json`] = chainedConfig(`${prefix}chain`, "10.5.0.12/24");
  }
  files["default-route.json"] = ipvlanConfig("ours", "dflt", {}, "10.6.0.0/24");
  files["other-mode.json"] = ipvlanConfig("ours", "l2", { master: "ol2", mode: "l3" }, SCENARIOS.l2.subnet);
  return files;
}

/**
 * For each suite: masters "<o|r><scenario>", two containers per scenario ("<o|r><scenario>a",
 * "...b") that ping each other, two chained containers, then the other suite's DEL.
 */
const SCRIPT = `
  with_prev() { local config; config=$(< "$IN/$1"); printf '%s,"prevResult":%s}\\n' "\${config%\\}}" "$(< "$2")"; }
  other() { [[ $1 == ours ]] && echo reference || echo ours; }
  for suite in ours reference; do
    p=\${suite:0:1}
    for master in l2 l3 l3s chain; do
      ip link add $p$master type veth peer name $p$master-peer
      ip link set $p$master up; ip link set $p$master-peer up
    done
    for s in l2 l3 l3s; do
      container $p\${s}a $p\${s}b
      cni $suite ADD ipvlan $p\${s}a $suite-$s.json > $p\${s}a.json
      cni $suite ADD ipvlan $p\${s}b $suite-$s.json > $p\${s}b.json
      reach "$suite $s a -> b" $p\${s}a $(ipv4_of $p\${s}b.json)
      snapshot $p\${s}a $p\${s}a
    done
    container $p-chained-1 $p-chained-2
    cni $suite ADD ipvlan $p-chained-1 $suite-chained-1.json > $p-chained-1.json
    cni $suite ADD ipvlan $p-chained-2 $suite-chained-2.json > $p-chained-2.json
    reach "$suite chained 1 -> 2" $p-chained-1 10.5.0.12
    snapshot $p-chained-1 $p-chained-1
  done

  # Ours only: CHECK, the default route's interface as master, DEL.
  with_prev ours-l2.json ol2a.json > check-l2.json
  cni ours CHECK ipvlan ol2a "$PWD/check-l2.json"
  with_prev other-mode.json ol2a.json > check-other-mode.json
  cni ours CHECK ipvlan ol2a "$PWD/check-other-mode.json" > /dev/null 2> check-other-mode.err || echo $? > check-other-mode.status
  ip -n ol2a address flush dev eth0
  cni ours CHECK ipvlan ol2a "$PWD/check-l2.json" > /dev/null 2> check-flushed.err || echo $? > check-flushed.status
  ip route add default dev ol3
  container dflt
  cni ours ADD ipvlan dflt default-route.json > dflt.json
  ip netns exec dflt cat /sys/class/net/eth0/iflink > dflt-iflink
  cat /sys/class/net/ol3/ifindex > ol3-ifindex

  # Each suite's attachments deleted by the other suite's plugin; one twice (DEL is idempotent).
  cni ours DEL ipvlan ol2a ours-l2.json
  for suite in ours reference; do
    p=\${suite:0:1}
    for s in l2 l3 l3s; do
      for c in a b; do cni $(other $suite) DEL ipvlan $p$s$c $suite-$s.json; done
    done
    cni $(other $suite) DEL ipvlan $p-chained-1 $suite-chained-1.json
    ls -A /run/$suite-leases/l2 /run/$suite-leases/l3 /run/$suite-leases/l3s | grep -E '^[0-9]' > $suite-leases-left || true
    for s in l2 l3 l3s; do ip -n $p\${s}a -o link show | grep -c eth0 >> $suite-links-left || true; done
  done
`;

type Suite = "ours" | "reference";

/** About 40 plugin runs, each a second or more of guest CPU on a busy 2-core host. */
const GUEST_TIMEOUT_MS = 300_000;

/** What a user sees of one attachment: its result (MACs are the master's, so normalized) and its link. */
function observe(run: GuestRun, container: string): unknown {
  const result = JSON.parse(run.text(`${container}.json`).replace(/"([0-9a-f]{2}:){5}[0-9a-f]{2}"/g, '"<mac>"').replaceAll(`/run/netns/${container}`, "<netns>"));
  const state = run.state(container);
  const eth0 = state.links.find((link) => link.ifname === "eth0");
  return {
    result,
    link: { kind: eth0?.linkinfo?.info_kind, mode: eth0?.linkinfo?.info_data?.mode, mtu: eth0?.mtu, operstate: eth0?.operstate },
    addresses: addresses(state),
    routes: state.routes.filter((route) => !route.dst.startsWith("fe80")).map((route) => `${route.dst} ${route.gateway ?? ""} ${route.dev}`).sort(),
  };
}

function addresses(state: GuestState): string[] {
  return state.addresses.flatMap((link) => link.addr_info.filter((a) => a.scope !== "link").map((a) => `${link.ifname} ${a.local}/${a.prefixlen}`)).sort();
}

describe("ipvlan in a kernel with ipvlan", () => {
  let run: GuestRun;

  beforeAll(async () => {
    run = await mustRunInGuest({ modules: ["ipvlan", "veth"], inputs: inputs(), script: SCRIPT, timeoutMs: GUEST_TIMEOUT_MS });
  }, GUEST_TIMEOUT_MS + 30_000);

  it("lets two containers on one master ping each other in l2, l3 and l3s mode, and chained", () => {
    const reach = run.reachability();
    for (const label of ["l2 a -> b", "l3 a -> b", "l3s a -> b", "chained 1 -> 2"]) expect(reach[`ours ${label}`], label).toBe(true);
  });

  it("makes an ipvlan in the configured mode and MTU, with the addresses of IPAM on it", () => {
    const l3s = observe(run, "ol3sa") as { link: unknown; result: Result; addresses: string[] };
    expect(l3s.link).toEqual({ kind: "ipvlan", mode: "l3s", mtu: 1400, operstate: expect.any(String) });
    expect(l3s.result.interfaces).toEqual([{ name: "eth0", mac: "<mac>", sandbox: "<netns>" }]);
    expect(l3s.addresses).toEqual([`eth0 ${l3s.result.ips![0]!.address}`]);
  });

  it("chained without master or ipam: takes prevResult's single interface as master and its addresses", () => {
    const chained = observe(run, "o-chained-1") as { result: Result; addresses: string[] };
    expect(chained.result.ips).toEqual([{ address: "10.5.0.11/24", interface: 0 }]);
    expect(chained.addresses).toEqual(["eth0 10.5.0.11/24"]);
  });

  it("takes the default route's interface as master when none is given", () => {
    expect(run.text("dflt-iflink").trim()).toBe(run.text("ol3-ifindex").trim());
    expect(run.json<Result>("dflt.json").interfaces).toHaveLength(1);
  });

  it("CHECK passes on what ADD made, and finds another mode and a removed address (104)", () => {
    expect(run.text("check-other-mode.status").trim()).toBe("1");
    expect(run.text("check-flushed.status").trim()).toBe("1");
    expect(run.text("check-other-mode.err")).toContain('"code":104');
    expect(run.text("check-other-mode.err")).toMatch(/mode l2, the configuration says l3/);
    expect(run.text("check-flushed.err")).toMatch(/"code":104.*missing from eth0/);
  });

  it.each(["l2", "l3", "l3s", "chained"])("matches the reference: %s", (scenario) => {
    const containers = scenario === "chained" ? ["o-chained-1", "r-chained-1"] : [`o${scenario}a`, `r${scenario}a`];
    const [ours, reference] = containers.map((container) => observe(run, container));
    expect(ours).toEqual(reference);
    expect(run.reachability()[`reference ${scenario === "chained" ? "chained 1 -> 2" : `${scenario} a -> b`}`]).toBe(true);
  });

  it.each<Suite>(["ours", "reference"])("leaves no link and no lease when the other suite deletes what %s added", (suite) => {
    expect(run.text(`${suite}-leases-left`)).toBe("");
    expect(run.text(`${suite}-links-left`).split("\n").filter(Boolean)).toEqual(["0", "0", "0"]);
  });
});
