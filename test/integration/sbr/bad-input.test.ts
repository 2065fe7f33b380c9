/**
 * Bad input to sbr: every key with a wrong type or value is code 7 naming the key and the value,
 * before anything in the container changes; so is a prevResult it cannot route by.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callPlugin } from "../../helpers/cni.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";

let netns: TestNetns;
beforeAll(() => {
  netns = createNetns("sbi");
  netns.exec(["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0"]);
  netns.exec(["ip", "addr", "add", "10.77.0.5/24", "dev", "eth0"]);
});
afterAll(() => netns.remove());

const prevResult = { cniVersion: "1.0.0", interfaces: [{ name: "eth0", sandbox: "x" }], ips: [{ address: "10.77.0.5/24", gateway: "10.77.0.1", interface: 0 }] };

function add(extra: object, withPrev = true) {
  const config = { cniVersion: "1.0.0", name: "sb-bad", type: "sbr", ...(withPrev && { prevResult }), ...extra };
  return callPlugin("sbr", { command: "ADD", containerId: "sb-bad", netns: netns.path, ifname: "eth0", config });
}

describe("sbr refuses bad input with code 7 naming the key", () => {
  const cases: [string, object, string][] = [
    ["a table that is text", { table: "100" }, 'table="100"'],
    ["a table of 0", { table: 0 }, "table=0"],
    ["a negative table", { table: -1 }, "table=-1"],
    ["a fractional table", { table: 1.5 }, "table=1.5"],
    ["a table beyond 32 bits", { table: 2 ** 32 }, `table=${2 ** 32}`],
    ["gateways that are not a list", { gateways: "10.77.0.1" }, 'gateways="10.77.0.1"'],
    ["a gateway that is no address", { gateways: ["10.77.0.300"] }, 'gateways[0]="10.77.0.300"'],
    ["a gateway that is a number", { gateways: [1] }, "gateways[0]=1"],
    ["three gateways", { gateways: ["10.77.0.1", "fd00::1", "10.77.0.2"] }, "gateways="],
    ["two IPv4 gateways", { gateways: ["10.77.0.1", "10.77.0.2"] }, "two IPv4 gateways"],
    ["addSourceHints that is text", { addSourceHints: "yes" }, 'addSourceHints="yes"'],
  ];
  it.each(cases)("%s", (_what, extra, named) => {
    const outcome = add(extra);
    expect(outcome.status).toBe(1);
    expect(outcome.json).toMatchObject({ code: 7, msg: expect.stringContaining(named) });
    expect(netns.exec(["ip", "rule", "show"])).not.toContain("10.77.0.5");
  });

  it("no prevResult", () => {
    expect(add({}, false).json).toMatchObject({ code: 7, msg: expect.stringContaining("prevResult") });
  });

  it("a prevResult without addresses", () => {
    expect(add({ prevResult: { ...prevResult, ips: [] } }).json).toMatchObject({ code: 7, msg: expect.stringContaining("prevResult.ips=[]") });
  });

  it("an interface the namespace does not have is code 4 naming CNI_IFNAME", () => {
    const config = { cniVersion: "1.0.0", name: "sb-bad", type: "sbr", prevResult };
    const outcome = callPlugin("sbr", { command: "ADD", containerId: "sb-bad", netns: netns.path, ifname: "eth9", config });
    expect(outcome.json).toMatchObject({ code: 4, msg: expect.stringContaining("CNI_IFNAME") });
  });
});
