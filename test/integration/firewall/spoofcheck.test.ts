import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { checkMacSpoofCheck, setupMacSpoofCheck, teardownMacSpoofCheck } from "../../../lib/firewall/index.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { REFERENCE_BIN } from "../../helpers/paths.ts";
import { randomSubnets, uniqueName } from "../../helpers/tag.ts";
import { createFirewallNetns, type FirewallNetns, type NftJsonObject } from "./firewall-netns.ts";

const c1 = { containerId: "c1", ifname: "eth0", hostInterface: "veth1a2b3c4d", containerMac: "0a:58:0a:01:00:05" };
const c2 = { containerId: "c2", ifname: "net1", hostInterface: "veth5e6f7a8b", containerMac: "0A:58:0A:01:00:06" };

/** The table as chains (name -> hook) and rules (chain, comment, expressions), handles left out. */
function layout(objects: NftJsonObject[] | undefined): { chains: Record<string, string>; rules: string[] } | undefined {
  if (!objects) return undefined;
  const chains: Record<string, string> = {};
  const rules: string[] = [];
  for (const object of objects) {
    if (object.chain) chains[String(object.chain.name)] = object.chain.hook ? `${object.chain.type} ${object.chain.hook} ${object.chain.prio} ${object.chain.policy}` : "";
    if (object.rule) rules.push(`${object.rule.chain} | ${object.rule.comment} | ${JSON.stringify(object.rule.expr)}`);
  }
  return { chains, rules };
}

describe("the MAC spoof check's nftables rules", () => {
  let fw: FirewallNetns;
  const options = () => ({ executor: fw.executor });
  const table = () => layout(fw.nftTable("bridge", "nat"));

  beforeEach(() => {
    fw = createFirewallNetns("fws");
  });
  afterEach(() => fw.ns.remove());

  it("sets up the reference's layout: a PREROUTING base chain, two chains per attachment, four rules", () => {
    setupMacSpoofCheck(c1, options());
    const match = (left: object, right: string) => ({ match: { op: "==", left, right } });
    expect(table()).toEqual({
      chains: { PREROUTING: "filter prerouting -300 accept", "cni-br-iface-c1-eth0": "", "cni-br-iface-c1-eth0-mac": "" },
      rules: [
        `PREROUTING | macspoofchk-c1-eth0 | ${JSON.stringify([match({ meta: { key: "iifname" } }, "veth1a2b3c4d"), { jump: { target: "cni-br-iface-c1-eth0" } }])}`,
        `cni-br-iface-c1-eth0 | macspoofchk-c1-eth0 | ${JSON.stringify([{ jump: { target: "cni-br-iface-c1-eth0-mac" } }])}`,
        `cni-br-iface-c1-eth0-mac | macspoofchk-c1-eth0 | ${JSON.stringify([match({ payload: { protocol: "ether", field: "saddr" } }, "0a:58:0a:01:00:05"), { return: null }])}`,
        `cni-br-iface-c1-eth0-mac | macspoofchk-c1-eth0 | ${JSON.stringify([{ drop: null }])}`,
      ],
    });
  });

  it("writes nothing twice when set up again, and follows a new host interface or MAC", () => {
    setupMacSpoofCheck(c1, options());
    const once = table();
    setupMacSpoofCheck(c1, options());
    expect(table()).toEqual(once);
    setupMacSpoofCheck({ ...c1, hostInterface: "vethffffffff", containerMac: "0a:58:0a:01:00:99" }, options());
    const rules = table()!.rules;
    expect(rules).toHaveLength(4);
    expect(rules.join("\n")).toContain("vethffffffff");
    expect(rules.join("\n")).toContain("0a:58:0a:01:00:99");
    expect(rules.join("\n")).not.toContain("veth1a2b3c4d");
  });

  it("passes CHECK after setup and fails with 104 naming the rule deleted by hand", () => {
    setupMacSpoofCheck(c1, options());
    setupMacSpoofCheck(c2, options());
    expect(() => checkMacSpoofCheck(c1, options())).not.toThrow();
    expect(() => checkMacSpoofCheck(c2, options())).not.toThrow();
    const drop = fw.nftTable("bridge", "nat")!.find((entry) => entry.rule?.chain === "cni-br-iface-c1-eth0-mac" && JSON.stringify(entry.rule.expr).includes("drop"));
    fw.exec(["nft", "delete", "rule", "bridge", "nat", "cni-br-iface-c1-eth0-mac", "handle", String(drop!.rule!.handle)]);
    expect(() => checkMacSpoofCheck(c1, options())).toThrow(
      expect.objectContaining({ code: 104, message: expect.stringContaining('missing rule "drop" comment "macspoofchk-c1-eth0" in chain bridge nat cni-br-iface-c1-eth0-mac') }),
    );
    expect(() => checkMacSpoofCheck({ ...c2, containerMac: "0a:58:0a:01:00:07" }, options())).toThrow(expect.objectContaining({ code: 104 }));
  });

  it("tears down exactly one attachment, keeps the table and PREROUTING, and succeeds again", () => {
    expect(() => teardownMacSpoofCheck(c1, options())).not.toThrow();
    setupMacSpoofCheck(c1, options());
    setupMacSpoofCheck(c2, options());
    teardownMacSpoofCheck(c1, options());
    const left = table()!;
    expect(Object.keys(left.chains)).toEqual(["PREROUTING", "cni-br-iface-c2-net1", "cni-br-iface-c2-net1-mac"]);
    expect(left.rules.every((rule) => rule.includes("macspoofchk-c2-net1"))).toBe(true);
    expect(() => teardownMacSpoofCheck(c1, options())).not.toThrow();
  });

  it("names a missing table in CHECK", () => {
    expect(() => checkMacSpoofCheck(c1, options())).toThrow(expect.objectContaining({ code: 104, message: expect.stringContaining("missing table bridge nat") }));
  });
});

/**
 * The reference bridge (Debian's 1.1.1, which has macspoofchk) run inside a "host" namespace of
 * the test's own, next to our functions working on the same namespace's nftables.
 */
describe("the MAC spoof check next to the reference bridge plugin", () => {
  let host: FirewallNetns;
  let container: TestNetns;
  let dataDir: string;
  let config: object;
  let referenceRequest: typeof c1;
  const options = () => ({ executor: host.executor });

  function reference(command: "ADD" | "DEL"): { interfaces: { name: string; mac: string }[] } {
    const result = spawnSync("ip", ["netns", "exec", host.ns.name, join(REFERENCE_BIN, "bridge")], {
      env: { PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: "ctr1", CNI_NETNS: container.path, CNI_IFNAME: "eth0", CNI_PATH: REFERENCE_BIN },
      input: JSON.stringify(config),
      encoding: "utf8",
      timeout: 60_000,
    });
    if (result.status !== 0) throw new Error(`reference bridge ${command} failed: ${result.stdout} ${result.stderr}`);
    return result.stdout.trim() ? JSON.parse(result.stdout) : { interfaces: [] };
  }

  beforeAll(() => {
    host = createFirewallNetns("fsh");
    container = createNetns("fsc");
    dataDir = mkdtempSync(join(tmpdir(), "fs-ipam-"));
    config = {
      cniVersion: "1.0.0",
      name: "spoofref",
      type: "bridge",
      bridge: uniqueName("fsb"),
      macspoofchk: true,
      ipam: { type: "host-local", ranges: [[{ subnet: randomSubnets().v4 }]], dataDir },
    };
  });
  afterAll(() => {
    container?.remove();
    host?.ns.remove();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("passes our CHECK on what the reference set up, and our setup writes the same rules again", () => {
    const result = reference("ADD");
    referenceRequest = { containerId: "ctr1", ifname: "eth0", hostInterface: result.interfaces[1]!.name, containerMac: result.interfaces[2]!.mac };
    const theirs = layout(host.nftTable("bridge", "nat"));
    expect(theirs!.rules).toHaveLength(4);
    expect(() => checkMacSpoofCheck(referenceRequest, options())).not.toThrow();
    setupMacSpoofCheck(referenceRequest, options());
    expect(layout(host.nftTable("bridge", "nat"))).toEqual(theirs);
  });

  it("removes the reference's rules with our teardown", () => {
    teardownMacSpoofCheck(referenceRequest, options());
    expect(layout(host.nftTable("bridge", "nat"))).toEqual({ chains: { PREROUTING: "filter prerouting -300 accept" }, rules: [] });
  });

  it("lets the reference's DEL remove the rules we set up", () => {
    setupMacSpoofCheck(referenceRequest, options());
    reference("DEL");
    expect(layout(host.nftTable("bridge", "nat"))).toEqual({ chains: { PREROUTING: "filter prerouting -300 accept" }, rules: [] });
  });
});
