import { beforeAll, describe, expect, it } from "vitest";
import type { Result } from "../../lib/types/index.ts";
import { mustRunInGuest, type GuestRun } from "./guest.ts";

/**
 * vlan, live: this host's kernel has no 8021q, so one User-Mode Linux guest runs every check and
 * the same configurations through the reference plugin (Debian's 1.1.1).
 *
 * A VLAN ID can exist once per master (the kernel refuses a second one, in any namespace), so
 * containers on one VLAN each get their own master: a veth end whose peer is a port of a bridge
 * (without VLAN filtering, it carries tagged frames as they are). a and b are on VLAN 10, c and
 * c2 on VLAN 20, all in one subnet, so only the VLAN keeps c from a. Each suite has its own
 * bridge and masters; each suite's attachments are then deleted by the other suite's plugin.
 */
const SUITES = { ours: "o", reference: "r" } as const;
type Suite = keyof typeof SUITES;
const CONTAINERS = { a: 10, b: 10, c: 20, c2: 20 } as const;

function vlanConfig(suite: Suite, master: string, vlanId: number, extra: Record<string, unknown> = {}): object {
  return {
    cniVersion: "1.0.0",
    name: "vlans",
    type: "vlan",
    master,
    vlanId,
    mtu: 1400,
    dns: { nameservers: ["10.10.0.53"] },
    ipam: { type: "host-local", subnet: "10.10.0.0/24", dataDir: `/run/${suite}-leases` },
    ...extra,
  };
}

function inputs(): Record<string, object> {
  const files: Record<string, object> = {};
  for (const [suite, p] of Object.entries(SUITES) as [Suite, string][]) {
    for (const [name, id] of Object.entries(CONTAINERS)) files[`${p}${name}.conf`] = vlanConfig(suite, `${p}m${name}`, id);
  }
  files["taken.conf"] = vlanConfig("ours", "oma", 10);
  files["other-id.conf"] = vlanConfig("ours", "oma", 11);
  return files;
}

const SCRIPT = `
  with_prev() { local config; config=$(< "$IN/$1"); printf '%s,"prevResult":%s}\\n' "\${config%\\}}" "$(< "$2")"; }
  for p in o r; do
    {
      echo "link add \${p}br type bridge"
      echo "link set \${p}br up"
      for c in ${Object.keys(CONTAINERS).join(" ")}; do
        echo "link add \${p}m$c type veth peer name \${p}m$c-port"
        echo "link set \${p}m$c-port master \${p}br"
        echo "link set \${p}m$c-port up"
        echo "link set \${p}m$c up"
      done
    } | ip -batch -
  done
  for suite in ours reference; do
    p=\${suite:0:1}
    for c in ${Object.keys(CONTAINERS).join(" ")}; do
      container $p$c
      cni $suite ADD vlan $p$c $p$c.conf > $p$c.json
    done
    reach "$suite a -> b" \${p}a $(ipv4_of \${p}b.json)
    reach "$suite c -> a" \${p}c $(ipv4_of \${p}a.json)
    reach "$suite c -> c2" \${p}c $(ipv4_of \${p}c2.json)
    snapshot \${p}a \${p}a
  done

  # Ours only: a VLAN ID taken on the master, CHECK, DEL.
  container x
  cni ours ADD vlan x taken.conf > /dev/null 2> taken.err || echo $? > taken.status
  ip -n x -o link show | grep -c eth0 > taken-links || true
  ls -A /run/ours-leases/vlans | grep -E '^[0-9]' > taken-leases || true
  with_prev oa.conf oa.json > check.json
  cni ours CHECK vlan oa "$PWD/check.json"
  with_prev other-id.conf oa.json > check-other-id.json
  cni ours CHECK vlan oa "$PWD/check-other-id.json" > /dev/null 2> check-other-id.err || echo $? > check-other-id.status

  cni ours DEL vlan oa oa.conf
  for suite in ours reference; do
    p=\${suite:0:1}
    other=$([[ $suite == ours ]] && echo reference || echo ours)
    for c in ${Object.keys(CONTAINERS).join(" ")}; do cni $other DEL vlan $p$c $p$c.conf; done
    ls -A /run/$suite-leases/vlans | grep -E '^[0-9]' > $suite-leases-left || true
    for c in ${Object.keys(CONTAINERS).join(" ")}; do ip -n $p$c -o link show | grep -c eth0 >> $suite-links-left || true; done
  done
`;

/** Seven plugin runs per suite and a few more, each a second or more of guest CPU on a busy host. */
const GUEST_TIMEOUT_MS = 300_000;

function observe(run: GuestRun, container: string): unknown {
  const result = JSON.parse(run.text(`${container}.json`).replace(/"([0-9a-f]{2}:){5}[0-9a-f]{2}"/g, '"<mac>"').replaceAll(`/run/netns/${container}`, "<netns>"));
  const state = run.state(container);
  const eth0 = state.links.find((link) => link.ifname === "eth0");
  return {
    result,
    link: { kind: eth0?.linkinfo?.info_kind, id: eth0?.linkinfo?.info_data?.id, mtu: eth0?.mtu, operstate: eth0?.operstate },
    addresses: state.addresses.flatMap((link) => link.addr_info.filter((a) => a.scope !== "link").map((a) => `${link.ifname} ${a.local}/${a.prefixlen}`)).sort(),
    routes: state.routes.filter((route) => !route.dst.startsWith("fe80")).map((route) => `${route.dst} ${route.gateway ?? ""} ${route.dev}`).sort(),
  };
}

describe("vlan in a kernel with 8021q", () => {
  let run: GuestRun;

  beforeAll(async () => {
    run = await mustRunInGuest({ modules: ["8021q", "veth", "bridge"], inputs: inputs(), script: SCRIPT, timeoutMs: GUEST_TIMEOUT_MS });
  }, GUEST_TIMEOUT_MS + 30_000);

  it("lets two containers on VLAN 10 ping each other; one on VLAN 20 reaches only its own VLAN", () => {
    expect(run.reachability()).toMatchObject({ "ours a -> b": true, "ours c -> a": false, "ours c -> c2": true });
  });

  it("makes a VLAN link with the configured ID and MTU, the IPAM address on it and the configured DNS", () => {
    const a = observe(run, "oa") as { link: unknown; result: Result; addresses: string[] };
    expect(a.link).toEqual({ kind: "vlan", id: 10, mtu: 1400, operstate: "UP" });
    expect(a.result).toMatchObject({ interfaces: [{ name: "eth0", mac: "<mac>", sandbox: "<netns>" }], ips: [{ interface: 0 }], dns: { nameservers: ["10.10.0.53"] } });
    expect(a.addresses).toEqual([`eth0 ${a.result.ips![0]!.address}`]);
  });

  it("answers a VLAN ID already on the master with code 7 naming vlanId, leaving no link and no lease", () => {
    expect(run.text("taken.status").trim()).toBe("1");
    expect(run.text("taken.err")).toMatch(/"code":7.*vlanId=10.*already has a VLAN link with this ID/);
    expect(run.text("taken-links").trim()).toBe("0");
    expect(run.text("taken-leases").trim().split("\n")).toHaveLength(4); // the four containers' leases only
  });

  it("CHECK passes on what ADD made and finds another VLAN ID (104)", () => {
    expect(run.text("check-other-id.status").trim()).toBe("1");
    expect(run.text("check-other-id.err")).toMatch(/"code":104.*VLAN ID 10, the configuration says 11/);
  });

  it("matches the reference: result, link, addresses, routes, and who reaches whom", () => {
    expect(observe(run, "oa")).toEqual(observe(run, "ra"));
    const reach = run.reachability();
    expect(["a -> b", "c -> a", "c -> c2"].map((label) => reach[`reference ${label}`])).toEqual([true, false, true]);
  });

  it.each<Suite>(["ours", "reference"])("leaves no link and no lease when the other suite deletes what %s added", (suite) => {
    expect(run.text(`${suite}-leases-left`)).toBe("");
    expect(run.text(`${suite}-links-left`).split("\n").filter(Boolean)).toEqual(["0", "0", "0", "0"]);
  });
});
