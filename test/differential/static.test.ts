/**
 * Our static against the reference (/usr/lib/cni/static, containernetworking-plugins 1.1.1):
 * the same configuration and CNI_ARGS in, the same result out, for every spec version the
 * reference speaks (it stops at 1.0.0).
 *
 * Where we differ on purpose, each case below says so:
 * - ADD without any address: the reference returns a result without addresses; we answer code
 *   7 naming where addresses come from (a main plugin cannot do anything with no address).
 * - A gateway of the other family than its address: the reference returns it; we answer 7.
 * - CHECK of an address missing from prevResult: the reference passes; we answer 104.
 * - Error codes: the reference answers 999 for nearly every failure; we give the spec's codes.
 *   That both fail is compared.
 * - Routes: 1.1.1 drops the CNI 1.1 route keys (mtu, ...); cases use dst and gw only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callPlugin, type PluginCall } from "../helpers/cni.ts";
import { createNetns, type TestNetns } from "../helpers/netns.ts";
import { REFERENCE_BIN } from "../helpers/paths.ts";

const REFERENCE = `${REFERENCE_BIN}/static`;

let netns: TestNetns;
beforeAll(() => {
  netns = createNetns("dh");
});
afterAll(() => netns.remove());

function both(command: PluginCall["command"], config: object, args = "") {
  const call: PluginCall = { command, containerId: "dh-diff", netns: netns.path, ifname: "eth0", config, args };
  return { reference: callPlugin(REFERENCE, call), ours: callPlugin("static", call) };
}

function config(ipam: object, extra: object = {}, cniVersion = "1.0.0") {
  return { cniVersion, name: "static-diff", type: "static", ipam: { type: "static", ...ipam }, ...extra };
}

const dualStack = {
  addresses: [{ address: "10.78.1.5/24", gateway: "10.78.1.1" }, { address: "FD78:0::0005/64", gateway: "fd78::1" }],
  routes: [{ dst: "0.0.0.0/0" }, { dst: "192.168.78.0/24", gw: "10.78.1.254" }, { dst: "::/0" }],
  dns: { nameservers: ["10.78.1.53"], domain: "d.test", search: ["d.test", "e.test"], options: ["ndots:1"] },
};

describe("static gives the reference's results", () => {
  const cases: [string, object, string][] = [
    ...["0.1.0", "0.2.0"].map((version): [string, object, string] => [
      `one address per family at ${version}`,
      config({ ...dualStack, dns: { nameservers: ["10.78.1.53"] } }, {}, version),
      "",
    ]),
    ...["0.3.0", "0.3.1", "0.4.0", "1.0.0"].map((version): [string, object, string] => [`dual stack with routes and dns at ${version}`, config(dualStack, {}, version), ""]),
    ["addresses with host bits and no gateway", config({ addresses: [{ address: "10.78.2.77/16" }, { address: "fd78:2::77/48" }] }), ""],
    ["CNI_ARGS IP and GATEWAY added after the configured addresses", config({ addresses: [{ address: "10.78.2.5/24" }] }), "IP=10.78.3.5/24,fd78:3::5/64;GATEWAY=10.78.3.1,fd78:3::1,10.78.2.1"],
    ["args.cni.ips replacing configured and CNI_ARGS addresses", config(dualStack, { args: { cni: { ips: ["10.78.4.5/24"] } } }), "IP=10.78.3.5/24"],
    ["the ips capability replacing every other source", config(dualStack, { args: { cni: { ips: ["10.78.4.5/24"] } }, runtimeConfig: { ips: ["10.78.5.5/24", "fd78:5::5/64"] } }), ""],
    ["empty args.cni.ips and ips lists, which change nothing", config(dualStack, { args: { cni: { ips: [] } }, runtimeConfig: { ips: [] } }), ""],
    ["an IPv4-mapped IPv6 address, printed as IPv4", config({ addresses: [{ address: "::ffff:10.78.6.5/120" }] }), ""],
    ["unknown CNI_ARGS keys with IgnoreUnknown", config(dualStack), "IgnoreUnknown=1;K8S_POD_NAME=p;IP=10.78.7.5/24"],
    ["keys in any letter case", { cniVersion: "1.0.0", name: "n", type: "static", IPAM: { TYPE: "static", ADDRESSES: [{ ADDRESS: "10.78.8.5/24", GATEWAY: "10.78.8.1" }] } }, ""],
  ];
  for (const [what, cfg, args] of cases) {
    it(what, () => {
      const { reference, ours } = both("ADD", cfg, args);
      expect(reference.status, reference.stdout).toBe(0);
      expect(ours.status, ours.stdout).toBe(0);
      expect(ours.json).toEqual(reference.json);
    });
  }
});

describe("static fails where the reference fails", () => {
  const cases: [string, object, string][] = [
    ["an address without a prefix length", config({ addresses: [{ address: "10.78.1.5" }] }), ""],
    ["a gateway that is no address", config({ addresses: [{ address: "10.78.1.5/24", gateway: "x" }] }), ""],
    ["a CNI_ARGS IP that is no CIDR", config({}), "IP=10.78.1.5"],
    ["a CNI_ARGS GATEWAY that is no address", config({}), "IP=10.78.1.5/24;GATEWAY=x"],
    ["an unknown CNI_ARGS key", config(dualStack), "FOO=bar"],
    ["an ips capability entry that is no CIDR", config({}, { runtimeConfig: { ips: ["10.78.1.5"] } }), ""],
    ["two IPv4 addresses at 0.2.0", config({ addresses: [{ address: "10.78.1.5/24" }, { address: "10.78.2.5/24" }] }, {}, "0.2.0"), ""],
    ["no ipam at all", { cniVersion: "1.0.0", name: "n", type: "static" }, ""],
  ];
  for (const [what, cfg, args] of cases) {
    it(what, () => {
      const { reference, ours } = both("ADD", cfg, args);
      expect(reference.status).toBe(1);
      expect(ours.status).toBe(1);
      expect(ours.json.code, "the spec's code, where the reference says 999").not.toBe(999);
    });
  }
});

describe("where static is stricter than the reference, on purpose", () => {
  it("refuses an ADD without any address (code 7) where the reference returns no address", () => {
    const { reference, ours } = both("ADD", config({ routes: [{ dst: "0.0.0.0/0" }] }));
    expect(reference.status).toBe(0);
    expect(reference.json.ips).toBeUndefined();
    expect(ours.json).toMatchObject({ code: 7 });
  });

  it("refuses a gateway of the other family (code 7) where the reference returns it", () => {
    const { reference, ours } = both("ADD", config({ addresses: [{ address: "10.78.1.5/24", gateway: "fd78::1" }] }));
    expect(reference.json.ips).toEqual([{ address: "10.78.1.5/24", gateway: "fd78::1" }]);
    expect(ours.json).toMatchObject({ code: 7 });
  });

  it("CHECK fails with 104 for an address missing from prevResult, which the reference lets pass", () => {
    const cfg = config({ addresses: [{ address: "10.78.1.5/24" }] });
    const { reference, ours } = both("CHECK", { ...cfg, prevResult: { cniVersion: "1.0.0", ips: [{ address: "10.78.9.9/24" }] } });
    expect(reference.status).toBe(0);
    expect(ours.json).toMatchObject({ code: 104 });
  });
});

describe("DEL and CHECK agree with the reference", () => {
  it("DEL succeeds for both, whatever the configuration", () => {
    for (const cfg of [config(dualStack), config({ addresses: [{ address: "nonsense" }] })]) {
      const { reference, ours } = both("DEL", cfg);
      expect([reference.status, ours.status]).toEqual([0, 0]);
      expect(ours.stdout).toBe(reference.stdout);
    }
  });

  it("CHECK passes for both on the ADD result and fails for both on a changed gateway", () => {
    const cfg = config(dualStack);
    const added = both("ADD", cfg).ours.json;
    const same = both("CHECK", { ...cfg, prevResult: added });
    expect([same.reference.status, same.ours.status]).toEqual([0, 0]);
    const changed = { ...added, ips: [{ address: "10.78.1.5/24", gateway: "10.78.1.9" }, added.ips[1]] };
    const differs = both("CHECK", { ...cfg, prevResult: changed });
    expect([differs.reference.status, differs.ours.status]).toEqual([1, 1]);
  });
});
