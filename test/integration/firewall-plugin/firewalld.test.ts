import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callPlugin, mustCall } from "../../helpers/cni.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { REFERENCE_BIN } from "../../helpers/paths.ts";
import { randomSubnets, uniqueName } from "../../helpers/tag.ts";
import { firewalldMissing, startIsolatedFirewalld, type IsolatedFirewalld } from "./firewalld-daemon.ts";
import { filterRules } from "./harness.ts";

const REFERENCE_FIREWALL = join(REFERENCE_BIN, "firewall");
const ZONE_INTERFACE = ["org.fedoraproject.FirewallD1", "/org/fedoraproject/FirewallD1", "org.fedoraproject.FirewallD1.zone"];

const missing = firewalldMissing();
if (missing) console.warn(`skipping the live firewalld tests: ${missing}`);

/**
 * The firewalld backend against a real firewalld (see firewalld-daemon.ts for how it is kept
 * away from the host's firewall). The plugins run inside firewalld's namespace, so whatever
 * iptables work they do lands there too.
 */
describe.skipIf(missing !== undefined)("firewall with a live firewalld", () => {
  let firewalld: IsolatedFirewalld;
  let container: TestNetns;
  const subnets = randomSubnets();
  const addresses = [`${subnets.v4Prefix}.5/24`, `${subnets.v6Prefix}::5/64`];
  const sources = [`${subnets.v4Prefix}.5/32`, `${subnets.v6Prefix}::5/128`];
  const prevResult = {
    cniVersion: "1.0.0",
    interfaces: [{ name: uniqueName("fwb") }, { name: uniqueName("veth") }, { name: "eth0", sandbox: "/run/netns/x" }],
    ips: addresses.map((address) => ({ interface: 2, address })),
  };

  const config = (extra: Record<string, unknown> = {}) => ({ cniVersion: "1.1.0", name: "fwdnet", type: "firewall", backend: "firewalld", prevResult, ...extra });
  const call = (command: "ADD" | "DEL" | "CHECK" | "STATUS", extra: Record<string, unknown> = {}, containerId = "fwdctr") => ({
    command,
    containerId,
    netns: container.path,
    ifname: "eth0",
    config: config(extra),
    env: firewalld.env,
  });
  const plugin = (command: "ADD" | "DEL" | "CHECK" | "STATUS", extra: Record<string, unknown> = {}) =>
    callPlugin("firewall", { ...call(command, extra), host: firewalld.ns.name });
  const reference = (command: "ADD" | "DEL" | "CHECK", extra: Record<string, unknown> = {}) =>
    mustCall(REFERENCE_FIREWALL, { ...call(command, { cniVersion: "1.0.0", ...extra }), path: REFERENCE_BIN, host: firewalld.ns.name });
  const inZone = (zone: string, source: string) => firewalld.busctl(["call", ...ZONE_INTERFACE, "querySource", "ss", zone, source]) === "b true";
  const zoneSources = (zone: string) => sources.filter((source) => inZone(zone, source));

  beforeAll(async () => {
    firewalld = await startIsolatedFirewalld();
    container = createNetns("fwc");
  }, 60_000);
  afterAll(async () => {
    container?.remove();
    await firewalld?.stop();
  }, 30_000);

  it("STATUS is ready, and code 50 naming a zone firewalld does not have", () => {
    expect(plugin("STATUS").status).toBe(0);
    const status = plugin("STATUS", { firewalldZone: "nosuchzone" });
    expect(status.json).toMatchObject({ code: 50, msg: expect.stringContaining('firewalld has no zone "nosuchzone" (firewalldZone)') });
  });

  it("ADD makes each container address a source of the trusted zone and passes prevResult on", () => {
    const added = plugin("ADD");
    expect(added.status).toBe(0);
    expect(added.json).toMatchObject({ ips: prevResult.ips, interfaces: prevResult.interfaces });
    expect(zoneSources("trusted")).toEqual(sources);
    expect(firewalld.busctl(["call", ...ZONE_INTERFACE, "getZoneOfSource", "s", sources[0]!])).toBe('s "trusted"');
    expect(filterRules(4, firewalld.ns.name)).toEqual([]);
  });

  it("ADD again succeeds: firewalld's ZONE_ALREADY_SET means done", () => {
    expect(plugin("ADD").status).toBe(0);
    expect(zoneSources("trusted")).toEqual(sources);
  });

  it("CHECK passes, and fails with code 104 naming a source removed by hand", () => {
    expect(plugin("CHECK").status).toBe(0);
    firewalld.busctl(["call", ...ZONE_INTERFACE, "removeSource", "ss", "trusted", sources[1]!]);
    const check = plugin("CHECK");
    expect(check.json).toMatchObject({ code: 104, msg: expect.stringContaining(`missing source ${sources[1]} in firewalld zone trusted`) });
  });

  it("DEL removes the sources, and a second DEL succeeds", () => {
    expect(plugin("DEL").status).toBe(0);
    expect(zoneSources("trusted")).toEqual([]);
    expect(plugin("DEL").status).toBe(0);
  });

  it("uses firewalld when no backend is configured and firewalld is running", () => {
    expect(plugin("ADD", { backend: undefined }).status).toBe(0);
    expect(zoneSources("trusted")).toEqual(sources);
    expect(filterRules(4, firewalld.ns.name)).toEqual([]);
    expect(plugin("DEL", { backend: undefined }).status).toBe(0);
    expect(zoneSources("trusted")).toEqual([]);
  });

  it("uses the configured firewalldZone", () => {
    expect(plugin("ADD", { firewalldZone: "internal" }).status).toBe(0);
    expect([zoneSources("internal"), zoneSources("trusted")]).toEqual([sources, []]);
    expect(plugin("CHECK", { firewalldZone: "internal" }).status).toBe(0);
    expect(plugin("DEL", { firewalldZone: "internal" }).status).toBe(0);
    expect(zoneSources("internal")).toEqual([]);
  });

  it("fails ADD with code 101 and firewalld's words when the address belongs to another zone", () => {
    firewalld.busctl(["call", ...ZONE_INTERFACE, "addSource", "ss", "public", sources[0]!]);
    try {
      const added = plugin("ADD");
      expect(added.json).toMatchObject({ code: 101, msg: expect.stringContaining(`adding source ${sources[0]} to zone trusted: ZONE_CONFLICT`) });
      expect(zoneSources("trusted")).toEqual([]);
    } finally {
      firewalld.busctl(["call", ...ZONE_INTERFACE, "removeSource", "ss", "public", sources[0]!]);
    }
  });

  it("isolates the bridge with iptables, as the reference does with firewalld", () => {
    expect(plugin("ADD", { ingressPolicy: "same-bridge" }).status).toBe(0);
    expect(zoneSources("trusted")).toEqual(sources);
    const bridge = prevResult.interfaces[0]!.name;
    expect(filterRules(6, firewalld.ns.name)).toContain(
      `-A CNI-ISOLATION-STAGE-2 -o ${bridge} -m comment --comment "CNI firewall plugin rules (ingressPolicy: same-bridge|isolated)" -j DROP`,
    );
    expect(plugin("CHECK", { ingressPolicy: "same-bridge" }).status).toBe(0);
    expect(plugin("DEL", { ingressPolicy: "same-bridge" }).status).toBe(0);
    expect(zoneSources("trusted")).toEqual([]);
  });

  it("removes the reference's sources on DEL and passes CHECK on them", () => {
    reference("ADD");
    expect(zoneSources("trusted")).toEqual(sources);
    expect(plugin("CHECK").status).toBe(0);
    expect(plugin("DEL").status).toBe(0);
    expect(zoneSources("trusted")).toEqual([]);
  });

  it("lets the reference's DEL remove the sources ours added", () => {
    expect(plugin("ADD").status).toBe(0);
    reference("CHECK");
    reference("DEL");
    expect(zoneSources("trusted")).toEqual([]);
  });
});

describe("firewall with the firewalld backend and no firewalld", () => {
  const noBus = { DBUS_SYSTEM_BUS_ADDRESS: "unix:path=/nonexistent/system_bus_socket" };
  const prevResult = { cniVersion: "1.0.0", ips: [{ address: `${randomSubnets().v4Prefix}.5/24` }] };

  it("DEL succeeds (a firewalld that is not running holds no sources), ADD fails with code 101 saying why", () => {
    const netns = createNetns("fwc");
    try {
      const call = (command: "ADD" | "DEL") => ({
        command,
        containerId: "fwdctr",
        netns: netns.path,
        ifname: "eth0",
        config: { cniVersion: "1.0.0", name: "fwdnet", type: "firewall", backend: "firewalld", prevResult },
        env: noBus,
      });
      expect(callPlugin("firewall", call("DEL")).status).toBe(0);
      expect(callPlugin("firewall", call("ADD")).json).toMatchObject({
        code: 101,
        msg: expect.stringContaining("it is not running (no owner of org.fedoraproject.FirewallD1 on the system bus)"),
      });
    } finally {
      netns.remove();
    }
  });
});
