import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { callPlugin, mustCall, type PluginCall } from "../../helpers/cni.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { uniqueName } from "../../helpers/tag.ts";
import { attachmentTag } from "../../../lib/firewall/forward/tag.ts";
import { addressRuleLines, familyOf, filterRules, hostRoute, markerLine, rulesOfAddress } from "./harness.ts";
import { HostChains } from "./host-chains.ts";

const FORWARD_JUMP = '-A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD';
const ADMIN_JUMP = '-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN';
/** No firewalld can answer here, whatever the machine runs: the default backend is then iptables. */
const NO_SYSTEM_BUS = { DBUS_SYSTEM_BUS_ADDRESS: "unix:path=/nonexistent/system_bus_socket" };

interface Attachment {
  containerId: string;
  netns: TestNetns;
  bridgeResult: { ips: { address: string }[]; interfaces: { name: string }[] };
  addresses: string[];
  firewall(command: PluginCall["command"], config?: Record<string, unknown>): PluginCall;
}

/**
 * The compiled firewall plugin chained after our bridge + host-local, as a runtime runs it:
 * rules go into the host's filter table. Every test uses its own network, addresses and
 * container IDs, checks only the rules of its own addresses, and removes them afterwards.
 */
describe("firewall after bridge + host-local, in the host namespace", () => {
  let hostChains: HostChains;
  let network: TestNetwork;
  const attachments: Attachment[] = [];

  beforeAll(() => {
    hostChains = new HostChains();
  });
  afterAll(() => hostChains?.removeSharedChainsIfUnused());

  beforeEach(() => {
    network = createTestNetwork();
  });
  afterEach(() => {
    for (const attachment of attachments.splice(0)) {
      hostChains.removeAddressRules(attachment.addresses);
      callPlugin("bridge", { command: "DEL", containerId: attachment.containerId, netns: attachment.netns.path, ifname: "eth0", config: network.bridgeConfig() });
      attachment.netns.remove();
    }
    network.cleanup();
  });

  function firewallConfig(prevResult: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { cniVersion: "1.0.0", name: network.name, type: "firewall", backend: "iptables", prevResult, ...extra };
  }

  /** bridge ADD, then firewall ADD with its result, as the runtime chains them. */
  function attach(firewallExtra: Record<string, unknown> = {}): Attachment {
    const netns = createNetns("fwp");
    const containerId = uniqueName("fwp");
    const base = { containerId, netns: netns.path, ifname: "eth0" };
    const bridgeResult = mustCall("bridge", { ...base, command: "ADD", config: network.bridgeConfig() }).json;
    const attachment: Attachment = {
      containerId,
      netns,
      bridgeResult,
      addresses: bridgeResult.ips.map((ip: { address: string }) => ip.address),
      firewall: (command, config = firewallConfig(bridgeResult, firewallExtra)) => ({ ...base, command, config }),
    };
    attachments.push(attachment);
    return attachment;
  }

  function rulesOf(attachment: Attachment): string[] {
    return attachment.addresses.flatMap((cidr) => rulesOfAddress(filterRules(familyOf(cidr)), hostRoute(cidr)));
  }

  function tagOf(attachment: Attachment): string {
    return attachmentTag({ network: network.name, containerId: attachment.containerId, ifname: "eth0" });
  }

  it("ADD passes the bridge's result on unchanged and adds the reference's rules and its marker for each container address", () => {
    const attachment = attach();
    const added = mustCall("firewall", attachment.firewall("ADD"));
    expect(added.json).toEqual(attachment.bridgeResult);
    expect(attachment.addresses.map(familyOf)).toEqual([4, 6]);
    for (const cidr of attachment.addresses) {
      const rules = filterRules(familyOf(cidr));
      expect(rulesOfAddress(rules, hostRoute(cidr))).toEqual([...addressRuleLines(cidr), markerLine(cidr, tagOf(attachment))]);
      expect(rules).toContain(FORWARD_JUMP);
      expect(rules.find((line) => line.startsWith("-A CNI-FORWARD "))).toBe(ADMIN_JUMP);
      expect(rules).toContain(":CNI-ADMIN - [0:0]");
    }
  });

  it("adds nothing twice when ADD runs again", () => {
    const attachment = attach();
    mustCall("firewall", attachment.firewall("ADD"));
    mustCall("firewall", attachment.firewall("ADD"));
    expect(rulesOf(attachment)).toHaveLength(6);
    for (const family of [4, 6] as const) {
      expect(filterRules(family).filter((line) => line === FORWARD_JUMP)).toHaveLength(1);
      expect(filterRules(family).filter((line) => line === ADMIN_JUMP)).toHaveLength(1);
    }
  });

  it("CHECK passes after ADD and fails with code 104 naming the rule deleted by hand", () => {
    const attachment = attach();
    mustCall("firewall", attachment.firewall("ADD"));
    expect(callPlugin("firewall", attachment.firewall("CHECK")).status).toBe(0);

    const v6 = hostRoute(attachment.addresses[1]!);
    hostChains.removeAddressRules([attachment.addresses[1]!]);
    const check = callPlugin("firewall", attachment.firewall("CHECK"));
    expect(check.status).toBe(1);
    expect(check.json.code).toBe(104);
    expect(check.json.msg).toContain(`missing rule "-A CNI-FORWARD -d ${v6} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT" in ip6tables table filter`);
    expect(check.json.msg).toContain(`rule "-A CNI-FORWARD -s ${v6} -j ACCEPT"`);
  });

  it("DEL removes exactly this container's rules, leaves another container's, and succeeds a second time", () => {
    const first = attach();
    const second = attach();
    mustCall("firewall", first.firewall("ADD"));
    mustCall("firewall", second.firewall("ADD"));

    mustCall("firewall", first.firewall("DEL"));
    expect(rulesOf(first)).toEqual([]);
    expect(rulesOf(second)).toHaveLength(6);
    expect(filterRules(4)).toContain(FORWARD_JUMP);

    const again = callPlugin("firewall", first.firewall("DEL"));
    expect(again).toMatchObject({ status: 0, stdout: "" });
    expect(rulesOf(second)).toHaveLength(6);
  });

  it("DEL without prevResult (the runtime died before caching it) finds the attachment's rules by its markers and removes them", () => {
    const first = attach();
    const second = attach();
    mustCall("firewall", first.firewall("ADD"));
    mustCall("firewall", second.firewall("ADD"));
    const withoutPrevResult = firewallConfig(undefined);
    delete withoutPrevResult.prevResult;
    expect(callPlugin("firewall", first.firewall("DEL", withoutPrevResult))).toMatchObject({ status: 0, stdout: "" });
    expect(rulesOf(first)).toEqual([]);
    expect(rulesOf(second)).toHaveLength(6);
    expect(callPlugin("firewall", first.firewall("DEL", withoutPrevResult)).status).toBe(0);
  });

  it("DEL with prevResult removes the reference's rules of the addresses, which carry no marker", () => {
    const attachment = attach();
    mustCall("firewall", attachment.firewall("ADD"));
    hostChains.removeMarkers(attachment.addresses);
    expect(rulesOf(attachment)).toEqual(attachment.addresses.flatMap(addressRuleLines));
    mustCall("firewall", attachment.firewall("DEL"));
    expect(rulesOf(attachment)).toEqual([]);
  });

  it("ADD without prevResult fails with code 7 naming prevResult and adds nothing", () => {
    const netns = createNetns("fwp");
    try {
      const before = [filterRules(4), filterRules(6)];
      const config = firewallConfig(undefined);
      delete config.prevResult;
      const outcome = callPlugin("firewall", { command: "ADD", containerId: uniqueName("fwp"), netns: netns.path, ifname: "eth0", config });
      expect(outcome.status).toBe(1);
      expect(outcome.json.code).toBe(7);
      expect(outcome.json.msg).toMatch(/^invalid config: prevResult=\(missing\): ADD needs the previous plugin's result/);
      expect([filterRules(4), filterRules(6)]).toEqual(before);
    } finally {
      netns.remove();
    }
  });

  it("uses iptables when no backend is configured and no firewalld answers on the system bus", () => {
    const attachment = attach();
    const config = firewallConfig(attachment.bridgeResult);
    delete config.backend;
    mustCall("firewall", { ...attachment.firewall("ADD", config), env: NO_SYSTEM_BUS });
    expect(rulesOf(attachment)).toHaveLength(6);
    mustCall("firewall", { ...attachment.firewall("DEL", config), env: NO_SYSTEM_BUS });
    expect(rulesOf(attachment)).toEqual([]);
  });

  it("jumps to a configured iptablesAdminChainName first and leaves that chain to the administrator", () => {
    const adminChain = uniqueName("ADM-");
    try {
      const attachment = attach({ iptablesAdminChainName: adminChain });
      mustCall("firewall", attachment.firewall("ADD"));
      const rules = filterRules(4);
      expect(rules).toContain(`:${adminChain} - [0:0]`);
      expect(rules.find((line) => line.startsWith("-A CNI-FORWARD "))).toBe(
        `-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j ${adminChain}`,
      );
      mustCall("firewall", attachment.firewall("CHECK"));
      mustCall("firewall", attachment.firewall("DEL"));
      expect(filterRules(4)).toContain(`:${adminChain} - [0:0]`);
    } finally {
      hostChains.removeAdminChain(adminChain);
    }
  });

  it("STATUS is ready with iptables and code 50 for a firewalld that is not running", () => {
    const attachment = attach();
    mustCall("firewall", attachment.firewall("ADD"));
    const networkConfig = (backend: string) => ({ cniVersion: "1.1.0", name: network.name, type: "firewall", backend });
    expect(callPlugin("firewall", { command: "STATUS", config: networkConfig("iptables") }).status).toBe(0);

    const status = callPlugin("firewall", { command: "STATUS", config: networkConfig("firewalld"), env: NO_SYSTEM_BUS });
    expect(status.json).toMatchObject({ code: 50, msg: expect.stringContaining("firewalld: it is not running") });

  });

  it("GC removes the rules of the network's attachments that are not valid, and keeps the valid ones", () => {
    const kept = attach();
    const stale = attach();
    mustCall("firewall", kept.firewall("ADD"));
    mustCall("firewall", stale.firewall("ADD"));
    const gc = (valid: { containerID: string; ifname: string }[]) =>
      callPlugin("firewall", { command: "GC", config: { cniVersion: "1.1.0", name: network.name, type: "firewall", backend: "iptables", "cni.dev/valid-attachments": valid } });
    expect(gc([{ containerID: kept.containerId, ifname: "eth0" }]).status).toBe(0);
    expect(rulesOf(kept)).toHaveLength(6);
    expect(rulesOf(stale)).toEqual([]);
    expect(gc([]).status).toBe(0);
    expect(rulesOf(kept)).toEqual([]);
  });
});
