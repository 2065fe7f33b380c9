import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callPlugin, mustCall } from "../../helpers/cni.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { REFERENCE_BIN } from "../../helpers/paths.ts";
import { uniqueName } from "../../helpers/tag.ts";
import { filterRules, withoutMarkers } from "./harness.ts";

const REFERENCE_FIREWALL = join(REFERENCE_BIN, "firewall");

/**
 * Our firewall plugin against the reference (Debian's containernetworking-plugins 1.1.1), each
 * in a "host" namespace of the test's own, fed the same chained ADD: the prevResult of our
 * bridge + host-local for a dual-stack container.
 */
describe("firewall against the reference plugin", () => {
  let network: TestNetwork;
  let container: TestNetns;
  let hosts: { reference: TestNetns; ours: TestNetns };
  let prevResult: { ips: { address: string }[]; interfaces: { name: string }[] };
  const containerId = uniqueName("fwd");

  const config = (extra: Record<string, unknown> = {}) => ({
    cniVersion: "1.0.0",
    name: network.name,
    type: "firewall",
    backend: "iptables",
    prevResult,
    ...extra,
  });
  const call = (command: "ADD" | "DEL" | "CHECK", extra: Record<string, unknown> = {}) => ({
    command,
    containerId,
    netns: container.path,
    ifname: "eth0",
    config: config(extra),
  });
  const reference = (host: TestNetns, command: "ADD" | "DEL" | "CHECK", extra: Record<string, unknown> = {}) =>
    mustCall(REFERENCE_FIREWALL, { ...call(command, extra), path: REFERENCE_BIN, host: host.name });
  const ours = (host: TestNetns, command: "ADD" | "DEL" | "CHECK", extra: Record<string, unknown> = {}) =>
    mustCall("firewall", { ...call(command, extra), host: host.name });

  /** Both families' filter tables, counters zeroed. */
  const tables = (host: TestNetns) => [4, 6].map((family) => filterRules(family as 4 | 6, host.name).map((line) => line.replace(/\[\d+:\d+\]/, "[0:0]")));

  beforeAll(() => {
    network = createTestNetwork();
    container = createNetns("fwc");
    hosts = { reference: createNetns("fwr"), ours: createNetns("fwo") };
    prevResult = mustCall("bridge", { ...call("ADD"), config: network.bridgeConfig(), host: hosts.reference.name }).json;
  });

  afterAll(() => {
    for (const ns of [container, hosts?.reference, hosts?.ours]) ns?.remove();
    network?.cleanup();
  });

  /** The tables without our markers: the reference's layout. */
  const referenceLayout = (host: TestNetns) => tables(host).map(withoutMarkers);

  it("writes the reference's filter tables for the same ADD, plus a marker per address, and the same result", () => {
    const theirs = reference(hosts.reference, "ADD").json;
    const mine = ours(hosts.ours, "ADD").json;
    expect(referenceLayout(hosts.ours)).toEqual(tables(hosts.reference));
    expect(tables(hosts.ours)[0]).toHaveLength(7);
    expect(mine).toEqual(theirs);
  });

  it("passes each other's CHECK; on the reference's rules ours adds only its markers, the reference nothing on ours", () => {
    ours(hosts.reference, "CHECK");
    reference(hosts.ours, "CHECK");
    const before = [tables(hosts.reference), tables(hosts.ours)];
    ours(hosts.reference, "ADD");
    reference(hosts.ours, "ADD");
    expect(tables(hosts.ours)).toEqual(before[1]);
    expect(referenceLayout(hosts.reference)).toEqual(before[0]);
    expect(tables(hosts.reference)[0]).toHaveLength(7);
  });

  it("lets the reference's DEL remove our rules (the no-op markers stay), and removes the reference's with ours, to the same tables", () => {
    reference(hosts.ours, "DEL");
    ours(hosts.reference, "DEL");
    const left = referenceLayout(hosts.ours);
    expect(left[0]!.filter((line) => line.includes("ACCEPT") && line.includes(" -s "))).toEqual([]);
    expect(left[1]!.filter((line) => line.includes("conntrack"))).toEqual([]);
    expect(tables(hosts.reference)).toEqual(left);
    ours(hosts.ours, "DEL");
    expect(tables(hosts.ours)).toEqual(left);
    // What stays, for both: the shared chains and the jumps to them.
    expect(left[0]).toEqual([
      ":CNI-ADMIN - [0:0]",
      ":CNI-FORWARD - [0:0]",
      '-A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD',
      '-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN',
    ]);
  });

  it("writes the reference's isolation layout, with the comments the reference uses since v1.7.0", () => {
    const host = { reference: createNetns("fwr"), ours: createNetns("fwo") };
    try {
      reference(host.reference, "ADD", { ingressPolicy: "same-bridge" });
      ours(host.ours, "ADD", { ingressPolicy: "same-bridge" });
      // v1.1.1 put "(ingressPolicy: same-bridge)" on every isolation rule; v1.7.0 and later
      // (and this plugin) put "(ingressPolicy: same-bridge|isolated)" on those all bridges share.
      const asBefore17 = (lines: string[][]) => lines.map((family) => family.map((line) => line.replace("same-bridge|isolated", "same-bridge")));
      expect(asBefore17(referenceLayout(host.ours))).toEqual(tables(host.reference));
    } finally {
      host.reference.remove();
      host.ours.remove();
    }
  });

  it("takes the reference's isolation rules for its own: nothing is added twice", () => {
    const host = createNetns("fwr");
    try {
      reference(host, "ADD", { ingressPolicy: "same-bridge" });
      const before = tables(host);
      ours(host, "ADD", { ingressPolicy: "same-bridge" });
      ours(host, "CHECK", { ingressPolicy: "same-bridge" });
      expect(referenceLayout(host)).toEqual(before);
    } finally {
      host.remove();
    }
  });

  it("refuses an isolating ingressPolicy when prevResult names no interface, as the reference, with code 7", () => {
    const noInterfaces = { ...call("ADD"), config: config({ ingressPolicy: "same-bridge", prevResult: { ...prevResult, interfaces: [] } }) };
    const theirs = callPlugin(REFERENCE_FIREWALL, { ...noInterfaces, path: REFERENCE_BIN, host: hosts.reference.name });
    const mine = callPlugin("firewall", { ...noInterfaces, host: hosts.ours.name });
    expect(theirs.json.msg).toContain('interface needs to be set for ingress policy "same-bridge"');
    expect(mine.json).toMatchObject({
      code: 7,
      msg: expect.stringContaining('prevResult.interfaces=[]: ingressPolicy "same-bridge" needs the bridge as the first interface of prevResult'),
    });
  });

  it("fails like the reference without prevResult on ADD, ours with code 7 naming it", () => {
    const withoutPrevResult = { ...call("ADD"), config: { ...config(), prevResult: undefined } };
    const theirs = callPlugin(REFERENCE_FIREWALL, { ...withoutPrevResult, path: REFERENCE_BIN, host: hosts.reference.name });
    const mine = callPlugin("firewall", { ...withoutPrevResult, host: hosts.ours.name });
    expect(theirs.status).toBe(1);
    expect(theirs.json.msg).toContain("missing prevResult");
    expect(mine.status).toBe(1);
    expect(mine.json).toMatchObject({ code: 7, msg: expect.stringContaining("prevResult=(missing)") });
  });
});
