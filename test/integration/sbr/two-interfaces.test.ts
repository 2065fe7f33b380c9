/**
 * sbr's reason to exist, with real traffic: a container on two networks answers a ping to its
 * second interface's address by that same interface. The test makes its own "host" namespace
 * (the plugins run in it, so their bridges and sysctls stay there) with strict reverse-path
 * filtering, and a remote namespace routed through it. Without sbr the reply leaves by the
 * container's default route (the first network) and the host drops it; with sbr it leaves by
 * the second interface and arrives.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mustCall, type PluginCall } from "../../helpers/cni.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { randomSubnets, uniqueName } from "../../helpers/tag.ts";

const dataDir = mkdtempSync(join(tmpdir(), "sbr-two-"));
let host: TestNetns;
let remote: TestNetns;
let container: TestNetns;
const first = randomSubnets();
const second = randomSubnets();
const outside = randomSubnets();

function network(name: string, subnet: string, defaultGateway: boolean) {
  return {
    cniVersion: "1.0.0",
    name,
    type: "bridge",
    bridge: uniqueName("sbb"),
    isGateway: true,
    isDefaultGateway: defaultGateway,
    ipam: { type: "host-local", dataDir, ranges: [[{ subnet }]] },
  };
}

const firstNet = network("sbr-first", first.v4, true);
const secondNet = network("sbr-second", second.v4, false);
const sbr = { cniVersion: "1.0.0", name: "sbr-second", type: "sbr" };

function call(command: PluginCall["command"], ifname: string, config: object): PluginCall {
  return { command, containerId: "sb-two", netns: container.path, ifname, config, host: host.name };
}

function pingFromRemote(address: string): boolean {
  try {
    remote.exec(["ping", "-c", "1", "-W", "2", address]);
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  host = createNetns("sbh");
  remote = createNetns("sbr");
  container = createNetns("sbc");
  const hostEnd = uniqueName("sbx");
  execFileSync("ip", ["-n", host.name, "link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", remote.name]);
  execFileSync("ip", ["-n", host.name, "addr", "add", `${outside.v4Prefix}.1/24`, "dev", hostEnd]);
  execFileSync("ip", ["-n", host.name, "link", "set", hostEnd, "up"]);
  execFileSync("ip", ["-n", remote.name, "addr", "add", `${outside.v4Prefix}.2/24`, "dev", "eth0"]);
  execFileSync("ip", ["-n", remote.name, "link", "set", "eth0", "up"]);
  execFileSync("ip", ["-n", remote.name, "route", "add", "default", "via", `${outside.v4Prefix}.1`]);
  host.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=1", "net.ipv4.conf.default.rp_filter=1"]);
});

afterAll(() => {
  for (const netns of [container, remote, host]) netns?.remove();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("sbr in a container on two networks", () => {
  let secondAddress: string;
  let secondResult: object;

  it("without sbr, a reply to the second interface leaves by the default route and is dropped", () => {
    mustCall("bridge", call("ADD", "eth0", firstNet));
    secondResult = mustCall("bridge", call("ADD", "net1", secondNet)).json;
    secondAddress = (secondResult as { ips: { address: string }[] }).ips[0]!.address.split("/")[0]!;
    expect(pingFromRemote(`${first.v4Prefix}.2`)).toBe(true);
    expect(pingFromRemote(secondAddress)).toBe(false);
  });

  it("with sbr on the second interface, the reply leaves by that interface and arrives", () => {
    mustCall("sbr", call("ADD", "net1", { ...sbr, prevResult: secondResult }));
    const rules = container.exec(["ip", "rule", "show"]);
    expect(rules).toContain(`from ${secondAddress} lookup 100`);
    expect(container.exec(["ip", "route", "show", "table", "100"])).toContain(`default via ${second.v4Prefix}.1 dev net1`);
    expect(pingFromRemote(secondAddress)).toBe(true);
    expect(pingFromRemote(`${first.v4Prefix}.2`)).toBe(true);
  });

  it("after sbr's DEL the rule and its table are gone, and so is the way back", () => {
    mustCall("sbr", call("DEL", "net1", { ...sbr, prevResult: secondResult }));
    expect(container.exec(["ip", "rule", "show"])).not.toContain(secondAddress);
    expect(container.exec(["ip", "route", "show", "table", "100"])).toBe("");
    expect(pingFromRemote(secondAddress)).toBe(false);
    mustCall("bridge", call("DEL", "net1", { ...secondNet, prevResult: secondResult }));
    mustCall("bridge", call("DEL", "eth0", firstNet));
  });
});
