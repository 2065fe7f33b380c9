/**
 * vrf on this host, whose kernel has no vrf module: ADD answers code 2 naming the module and
 * leaves the container as it was; bad configuration is code 7 naming the key; DEL and CHECK
 * behave. The live behaviour is in test/kernel/vrf.test.ts (User-Mode Linux has VRFs).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callPlugin } from "../../helpers/cni.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";

let netns: TestNetns;
beforeAll(() => {
  netns = createNetns("vri");
  netns.exec(["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0"]);
  netns.exec(["ip", "link", "set", "eth0", "up"]);
  netns.exec(["ip", "addr", "add", "10.79.0.5/24", "dev", "eth0"]);
});
afterAll(() => netns.remove());

const prevResult = { cniVersion: "1.0.0", interfaces: [{ name: "eth0", sandbox: "x" }], ips: [{ address: "10.79.0.5/24", interface: 0 }] };
const config = (extra: object = {}) => ({ cniVersion: "1.0.0", name: "vr-host", type: "vrf", vrfname: "vr0", prevResult, ...extra });
const call = (command: "ADD" | "DEL" | "CHECK", cfg: object) => callPlugin("vrf", { command, containerId: "vr-host", netns: netns.path, ifname: "eth0", config: cfg });

describe("vrf on a kernel without VRFs", () => {
  it("answers ADD with code 2 naming the vrf module, and leaves the container as it was", () => {
    const before = netns.exec(["ip", "-d", "link", "show"]) + netns.exec(["ip", "route", "show", "table", "all"]);
    const outcome = call("ADD", config());
    expect(outcome.status).toBe(1);
    expect(outcome.json).toMatchObject({ code: 2, msg: expect.stringContaining("need the vrf module") });
    expect(netns.exec(["ip", "-d", "link", "show"]) + netns.exec(["ip", "route", "show", "table", "all"])).toBe(before);
  });

  it("DEL finds no VRF and succeeds, also with the namespace gone", () => {
    expect(call("DEL", config()).status).toBe(0);
    const gone = callPlugin("vrf", { command: "DEL", containerId: "vr-host", netns: "/run/netns/vr-no-such", ifname: "eth0", config: config() });
    expect(gone.status).toBe(0);
  });

  it("CHECK finds no VRF: code 104", () => {
    expect(call("CHECK", config()).json).toMatchObject({ code: 104, msg: expect.stringContaining("no VRF vr0") });
  });
});

describe("vrf refuses bad input with code 7 naming the key", () => {
  const cases: [string, object, string][] = [
    ["no vrfname", { vrfname: undefined }, "vrfname"],
    ["an empty vrfname", { vrfname: "" }, 'vrfname=""'],
    ["a vrfname that is a number", { vrfname: 5 }, "vrfname=5"],
    ["a vrfname too long for an interface", { vrfname: "a-very-long-vrf-name" }, 'vrfname="a-very-long-vrf-name"'],
    ["a vrfname with a slash", { vrfname: "a/b" }, 'vrfname="a/b"'],
    ["a table that is text", { table: "10" }, 'table="10"'],
    ["a negative table", { table: -1 }, "table=-1"],
    ["a table beyond 32 bits", { table: 2 ** 32 }, `table=${2 ** 32}`],
    ["no prevResult", { prevResult: undefined }, "prevResult"],
  ];
  it.each(cases)("%s", (_what, extra, named) => {
    const outcome = call("ADD", config(extra));
    expect(outcome.status).toBe(1);
    expect(outcome.json).toMatchObject({ code: 7, msg: expect.stringContaining(named) });
  });

  it("refuses a CNI version below 0.3.1, as the reference", () => {
    expect(call("ADD", config({ cniVersion: "0.3.0" })).json).toMatchObject({ code: 1 });
  });
});
