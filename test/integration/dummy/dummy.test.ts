import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callPlugin, type PluginCall } from "../../helpers/cni.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { uniqueName } from "../../helpers/tag.ts";

/**
 * dummy on this host's kernel, which has no dummy links: ADD says so (code 2 naming the module)
 * and leaves neither a link nor a lease; bad input is refused before that. The live behaviour
 * is proven in a User-Mode Linux guest (test/kernel/dummy.test.ts).
 */
function containerLinks(netns: TestNetns): string[] {
  return netns.exec(["ip", "-o", "link", "show"]).split("\n").filter(Boolean).map((line) => line.split(": ")[1]!.split("@")[0]!).sort();
}

describe("dummy on a kernel without dummy links", () => {
  let network: TestNetwork;
  let netns: TestNetns;

  beforeEach(() => {
    network = createTestNetwork({ dualStack: false });
    netns = createNetns("dm");
  });
  afterEach(() => {
    netns.remove();
    network.cleanup();
  });

  const config = (extra: Record<string, unknown> = {}) => ({
    cniVersion: "1.0.0",
    name: network.name,
    type: "dummy",
    ipam: { type: "host-local", dataDir: network.dataDir, ranges: [[{ subnet: network.subnets.v4 }]] },
    ...extra,
  });
  const call = (command: PluginCall["command"], extra: Partial<PluginCall> = {}) =>
    callPlugin("dummy", { command, containerId: uniqueName("dmc"), netns: netns.path, ifname: "eth0", config: config(), ...extra });

  it("ADD answers code 2 naming the dummy module and leaves no link and no lease", () => {
    const outcome = call("ADD");
    expect(outcome.status).toBe(1);
    expect(outcome.json).toMatchObject({ code: 2 });
    expect(outcome.json.msg).toContain("dummy module");
    expect(containerLinks(netns)).toEqual(["lo"]);
    expect(network.leases()).toEqual([]);
    expect(call("DEL").status).toBe(0);
  });

  it.each([
    ["no ipam", { ipam: undefined }, "ipam="],
    ["an empty ipam", { ipam: {} }, "ipam="],
    ["dns of the wrong type", { dns: ["192.0.2.53"] }, "dns="],
    ["a name that is no network name", { name: "no spaces allowed" }, "name="],
  ])("ADD with %s is code 7 naming the key", (_, extra, named) => {
    const outcome = call("ADD", { config: config(extra) });
    expect(outcome.json).toMatchObject({ code: 7 });
    expect(outcome.json.msg).toContain(named);
    expect(containerLinks(netns)).toEqual(["lo"]);
    expect(network.leases()).toEqual([]);
  });

  it("a CNI_IFNAME already in the container is code 4 and takes no lease", () => {
    netns.exec(["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "dmpeer"]);
    const outcome = call("ADD");
    expect(outcome.json).toMatchObject({ code: 4 });
    expect(outcome.json.msg).toContain("CNI_IFNAME");
    expect(network.leases()).toEqual([]);
  });

  it("CHECK needs ipam and prevResult (code 7)", () => {
    expect(call("CHECK", { config: config({ ipam: undefined }) }).json).toMatchObject({ code: 7, msg: expect.stringContaining("ipam") });
    expect(call("CHECK").json).toMatchObject({ code: 7, msg: expect.stringContaining("prevResult") });
  });

  it("DEL without a namespace or IPAM succeeds, twice", () => {
    expect(call("DEL", { netns: undefined }).status).toBe(0);
    expect(call("DEL", { config: config({ ipam: {} }) }).status).toBe(0);
  });
});
