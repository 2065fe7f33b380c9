import { afterEach, describe, expect, it } from "vitest";
import { callPlugin, mustCall } from "../../helpers/cni.ts";
import { createNetns, ipJson, type TestNetns } from "../../helpers/netns.ts";
import { REFERENCE_BIN } from "../../helpers/paths.ts";
import { join } from "node:path";

const config = (cniVersion = "1.0.0", extra: object = {}) => ({ cniVersion, name: "lo-net", type: "loopback", ...extra });

function loState(netns: TestNetns): string {
  return ipJson<{ flags: string[] }[]>(["link", "show", "lo"], netns.name)[0]!.flags.includes("UP") ? "up" : "down";
}

const addCall = (netns: TestNetns, version: string) => ({ command: "ADD" as const, containerId: "lo5", netns: netns.path, ifname: "eth0", config: config(version) });
const withoutNetns = (json: unknown, netns: TestNetns) => JSON.parse(JSON.stringify(json).replaceAll(netns.path, "<netns>"));

describe("loopback", () => {
  const namespaces: TestNetns[] = [];
  const newNetns = () => {
    const netns = createNetns("lo");
    namespaces.push(netns);
    return netns;
  };
  afterEach(() => {
    for (const netns of namespaces.splice(0)) netns.remove();
  });

  it("brings lo up on ADD, passes CHECK, and takes it down on DEL", () => {
    const netns = newNetns();
    const call = { containerId: "lo1", netns: netns.path, ifname: "eth0" };
    const result = mustCall("loopback", { ...call, command: "ADD", config: config() }).json;
    expect(loState(netns)).toBe("up");
    expect(result).toEqual({
      cniVersion: "1.0.0",
      interfaces: [{ name: "lo", mac: "00:00:00:00:00:00", sandbox: netns.path }],
      ips: [
        { interface: 0, address: "127.0.0.1/8" },
        { interface: 0, address: "::1/128" },
      ],
      dns: {},
    });
    netns.exec(["ping", "-c", "1", "-W", "1", "127.0.0.1"]);
    mustCall("loopback", { ...call, command: "CHECK", config: config("1.0.0", { prevResult: result }) });
    mustCall("loopback", { ...call, command: "DEL", config: config() });
    expect(loState(netns)).toBe("down");
  });

  it("fails CHECK with code 104 when lo is down", () => {
    const netns = newNetns();
    const outcome = callPlugin("loopback", { command: "CHECK", containerId: "lo2", netns: netns.path, ifname: "eth0", config: config() });
    expect(outcome.json).toMatchObject({ code: 104 });
  });

  it("passes a prevResult through unchanged", () => {
    const netns = newNetns();
    const prevResult = { cniVersion: "1.0.0", ips: [{ address: "10.1.0.2/24" }], dns: {} };
    const outcome = mustCall("loopback", { command: "ADD", containerId: "lo3", netns: netns.path, ifname: "eth0", config: config("1.0.0", { prevResult }) });
    expect(outcome.json).toEqual(prevResult);
  });

  it("succeeds on DEL without CNI_NETNS and after the namespace is gone", () => {
    const netns = newNetns();
    mustCall("loopback", { command: "DEL", containerId: "lo4", ifname: "eth0", config: config() });
    netns.remove();
    mustCall("loopback", { command: "DEL", containerId: "lo4", netns: netns.path, ifname: "eth0", config: config() });
  });

  it("gives the reference's result at spec 1.0.0", () => {
    const [ours, theirs] = [newNetns(), newNetns()];
    const reference = mustCall(join(REFERENCE_BIN, "loopback"), { ...addCall(theirs, "1.0.0"), path: REFERENCE_BIN }).json;
    const result = mustCall("loopback", addCall(ours, "1.0.0")).json;
    expect(withoutNetns(result, ours)).toEqual(withoutNetns(reference, theirs));
    expect(loState(ours)).toBe(loState(theirs));
  });

  // The reference 1.1.1 labels a 1.0.0-shaped result with the old version instead of converting
  // it (no "version" in ips for 0.3.x/0.4.0, no ip4/ip6 for 0.2.0), which those versions' readers
  // reject. We write each version's own shape; the content is the reference's.
  it.each(["0.2.0", "0.3.1", "0.4.0"])("gives the reference's content at spec %s, in that version's shape", (version) => {
    const [ours, theirs] = [newNetns(), newNetns()];
    const reference = mustCall(join(REFERENCE_BIN, "loopback"), { ...addCall(theirs, version), path: REFERENCE_BIN }).json;
    const result = mustCall("loopback", addCall(ours, version)).json;
    const sameAddresses = (reference.ips as { address: string }[]).map((ip) => ip.address);
    if (version === "0.2.0") {
      expect(result).toEqual({ cniVersion: version, ip4: { ip: sameAddresses[0] }, ip6: { ip: sameAddresses[1] }, dns: {} });
    } else {
      expect(result.ips).toEqual(sameAddresses.map((address, i) => ({ version: i === 0 ? "4" : "6", interface: 0, address })));
      expect(withoutNetns(result.interfaces, ours)).toEqual(withoutNetns(reference.interfaces, theirs));
    }
  });
});
