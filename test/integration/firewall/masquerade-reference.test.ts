import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkMasquerade, gcMasquerade, setupMasquerade, teardownMasquerade } from "../../../lib/firewall/index.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { REFERENCE_BIN } from "../../helpers/paths.ts";
import { randomSubnets, uniqueName } from "../../helpers/tag.ts";
import { createFirewallNetns, type FirewallNetns } from "./firewall-netns.ts";

/**
 * The reference bridge plugin (Debian's 1.1.1, iptables masquerading only) run inside a "host"
 * namespace of the test's own, next to our code working on the same namespace's nat table.
 */
describe("masquerading interop with the reference bridge plugin (iptables)", () => {
  let host: FirewallNetns;
  const containers: TestNetns[] = [];
  let dataDir: string;
  let config: object;
  const network = "fwref";
  const options = () => ({ backend: "iptables" as const, executor: host.executor });
  const natTables = () => [host.iptablesRules(4), host.iptablesRules(6)];
  let referenceRules: string[][];
  let addresses: string[];

  function reference(command: "ADD" | "DEL", containerId: string, netns: TestNetns): { ips?: { address: string }[] } {
    const result = spawnSync("ip", ["netns", "exec", host.ns.name, join(REFERENCE_BIN, "bridge")], {
      env: {
        PATH: process.env.PATH,
        CNI_COMMAND: command,
        CNI_CONTAINERID: containerId,
        CNI_NETNS: netns.path,
        CNI_IFNAME: "eth0",
        CNI_PATH: REFERENCE_BIN,
      },
      input: JSON.stringify(config),
      encoding: "utf8",
      timeout: 60_000,
    });
    if (result.status !== 0) throw new Error(`reference bridge ${command} failed: ${result.stdout} ${result.stderr}`);
    return result.stdout.trim() ? (JSON.parse(result.stdout) as { ips?: { address: string }[] }) : {};
  }

  beforeAll(() => {
    host = createFirewallNetns("fwh");
    containers.push(createNetns("fwc"), createNetns("fwc"));
    dataDir = mkdtempSync(join(tmpdir(), "fw-ipam-"));
    const subnets = randomSubnets();
    config = {
      cniVersion: "1.0.0",
      name: network,
      type: "bridge",
      bridge: uniqueName("fwb"),
      isGateway: true,
      ipMasq: true,
      ipam: { type: "host-local", ranges: [[{ subnet: subnets.v4 }], [{ subnet: subnets.v6 }]], dataDir },
    };
  });

  afterAll(() => {
    for (const ns of [...containers, host?.ns]) ns?.remove();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("passes our CHECK on the rules the reference made", () => {
    const result = reference("ADD", "ctr1", containers[0]!);
    addresses = (result.ips ?? []).map((ip) => ip.address);
    expect(addresses).toHaveLength(2);
    referenceRules = natTables();
    expect(referenceRules[0]!.length).toBeGreaterThan(0);
    expect(() => checkMasquerade({ network, containerId: "ctr1", ifname: "eth0", addresses }, options())).not.toThrow();
  });

  it("keeps the reference's rules of a valid container on GC", () => {
    gcMasquerade(network, [{ containerID: "ctr1", ifname: "eth0" }], options());
    expect(natTables()).toEqual(referenceRules);
  });

  it("removes the reference's rules on teardown, and writes them back identically", () => {
    teardownMasquerade({ network, containerId: "ctr1", ifname: "eth0" }, options());
    expect(natTables()).toEqual([[], []]);
    setupMasquerade({ network, containerId: "ctr1", ifname: "eth0", addresses }, options());
    expect(natTables()).toEqual(referenceRules);
  });

  it("lets the reference's DEL remove the rules we wrote", () => {
    reference("DEL", "ctr1", containers[0]!);
    expect(natTables()).toEqual([[], []]);
  });

  it("collects the reference's rules of a container that is no longer valid", () => {
    reference("ADD", "ctr2", containers[1]!);
    expect(natTables()[0]!.length).toBeGreaterThan(0);
    gcMasquerade(network, [{ containerID: "ctr1", ifname: "eth0" }], options());
    expect(natTables()).toEqual([[], []]);
    // (A reference DEL of ctr2 would now fail: with iptables-nft its go-iptables does not take
    // "Chain ... does not exist" (exit status 2) for "not there". GC only collects attachments
    // the runtime has forgotten, so no DEL follows.)
  });
});
