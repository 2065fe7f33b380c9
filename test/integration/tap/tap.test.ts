/**
 * tap's settings, DEL, CHECK and bad input, in container namespaces the tests make. (The
 * reference's tap is not in Debian's 1.1.1: there is no differential test.)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { callPlugin, mustCall, type PluginCall } from "../../helpers/cni.ts";
import { createNetns, ipJson, type TestNetns } from "../../helpers/netns.ts";
import { uniqueName } from "../../helpers/tag.ts";

const scratch = mkdtempSync(join(tmpdir(), "tap-it-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let container: TestNetns | undefined;
afterEach(() => container?.remove());

interface TapView {
  ifname: string;
  address: string;
  mtu: number;
  flags: string[];
  master?: string;
  linkinfo: { info_kind: string; info_data: { type: string; multi_queue: boolean; persist: boolean; user?: number | string; group?: number | string } };
}

function tapConfig(extra: Record<string, unknown> = {}) {
  return { cniVersion: "1.0.0", name: "tpnet", type: "tap", ...extra };
}

function call(command: PluginCall["command"], config: object, options: Partial<PluginCall> = {}) {
  container ??= createNetns("tpc");
  return callPlugin("tap", { command, config, containerId: "tp-it", netns: container.path, ifname: "tap0", ...options });
}

function tapView(): TapView | undefined {
  try {
    return ipJson<TapView[]>(["-d", "link", "show", "dev", "tap0"], container!.name)[0];
  } catch {
    return undefined;
  }
}

const hostLocal = () => ({ type: "host-local", subnet: "10.231.30.0/24", dataDir: join(scratch, uniqueName("tpl")) });

describe("tap ADD", () => {
  it("makes a persistent tap with the configured MAC, MTU, owner, group and multi-queue, up, in the container", () => {
    container = createNetns("tpc");
    const add = call("ADD", tapConfig({ mac: "02-54-50-00-00-01", mtu: 1280, owner: 4321, group: 8765, multiQueue: true }));
    expect(add.status, add.stdout).toBe(0);
    expect(add.json).toEqual({ cniVersion: "1.0.0", interfaces: [{ name: "tap0", mac: "02:54:50:00:00:01", sandbox: container.path }], dns: {} });
    const tap = tapView()!;
    expect(tap).toMatchObject({ address: "02:54:50:00:00:01", mtu: 1280 });
    expect(tap.flags).toContain("UP");
    expect(tap.linkinfo).toMatchObject({ info_kind: "tun", info_data: { type: "tap", multi_queue: true, persist: true, user: 4321, group: 8765 } });
  });

  it("takes the MAC from CNI_ARGS MAC over mac, and from the mac capability over both", () => {
    container = createNetns("tpc");
    expect(call("ADD", tapConfig({ mac: "02:54:50:00:00:01" }), { args: "MAC=02:54:50:00:00:02" }).json.interfaces[0].mac).toBe("02:54:50:00:00:02");
    expect(call("DEL", tapConfig()).status).toBe(0);
    const both = call("ADD", tapConfig({ mac: "02:54:50:00:00:01", runtimeConfig: { mac: "02:54:50:00:00:03" } }), { args: "MAC=02:54:50:00:00:02" });
    expect(both.json.interfaces[0].mac).toBe("02:54:50:00:00:03");
    expect(tapView()!.address).toBe("02:54:50:00:00:03");
  });

  it("addresses it through IPAM, and DEL releases the lease and removes the tap, twice without complaint", () => {
    container = createNetns("tpc");
    const ipam = hostLocal();
    const config = tapConfig({ ipam });
    const add = call("ADD", config);
    expect(add.status, add.stdout).toBe(0);
    expect(add.json.ips).toEqual([{ interface: 0, address: "10.231.30.2/24", gateway: "10.231.30.1" }]);
    expect(container.exec(["ip", "-4", "-o", "addr", "show", "dev", "tap0"])).toContain("10.231.30.2/24");
    expect(readFileSync(join(ipam.dataDir, "tpnet", "10.231.30.2"), "utf8")).toContain("tp-it");
    expect(call("DEL", config).status).toBe(0);
    expect(tapView()).toBeUndefined();
    expect(existsSync(join(ipam.dataDir, "tpnet", "10.231.30.2"))).toBe(false);
    expect(call("DEL", config).status).toBe(0);
  });

  it("releases the lease on DEL when the container's namespace is gone", () => {
    container = createNetns("tpc");
    const ipam = hostLocal();
    const config = tapConfig({ ipam });
    expect(call("ADD", config).status).toBe(0);
    const path = container.path;
    container.remove();
    expect(call("DEL", config, { netns: path }).status).toBe(0);
    expect(existsSync(join(ipam.dataDir, "tpnet", "10.231.30.2"))).toBe(false);
  });

  it("accepts selinuxContext without SELinux on the host and says on stderr that it was not applied", () => {
    container = createNetns("tpc");
    if (existsSync("/sys/fs/selinux/enforce")) {
      console.log("this host has SELinux: the not-applied message cannot be seen here");
      return;
    }
    const add = call("ADD", tapConfig({ selinuxContext: "system_u:system_r:container_t:s0" }));
    expect(add.status, add.stdout).toBe(0);
    expect(add.stderr).toContain('selinuxContext "system_u:system_r:container_t:s0" not applied: SELinux is not enabled on this host');
    expect(tapView()).toBeDefined();
  });
});

describe("tap CHECK", () => {
  it("passes on what ADD made, and answers 104 when the tap or its address is gone", () => {
    container = createNetns("tpc");
    const config = tapConfig({ ipam: hostLocal() });
    const add = call("ADD", config);
    const checked = { ...config, prevResult: add.json };
    expect(call("CHECK", checked).status).toBe(0);
    container.exec(["ip", "addr", "flush", "dev", "tap0"]);
    expect(call("CHECK", checked).json).toMatchObject({ code: 104 });
    container.exec(["ip", "link", "delete", "tap0"]);
    expect(call("CHECK", checked).json).toMatchObject({ code: 104, msg: expect.stringContaining("tap tap0 not found") });
    expect(call("DEL", config).status).toBe(0);
  });
});

describe("tap refuses bad input with code 7 naming the key, and leaves nothing behind", () => {
  const cases: [string, Record<string, unknown>, string, string?][] = [
    ["mac that is no MAC address", { mac: "02:54:50:zz:00:01" }, 'mac="02:54:50:zz:00:01"'],
    ["mac of the wrong type", { mac: 5 }, "mac"],
    ["CNI_ARGS MAC that is no MAC address", {}, 'CNI_ARGS MAC="nope"', "MAC=nope"],
    ["runtimeConfig.mac that is no MAC address", { runtimeConfig: { mac: "nope" } }, 'runtimeConfig.mac="nope"'],
    ["a multicast MAC the kernel refuses", { mac: "01:00:5e:00:00:01" }, 'mac="01:00:5e:00:00:01"'],
    ["a negative mtu", { mtu: -1 }, "mtu"],
    ["an mtu the tap refuses", { mtu: 70000 }, "mtu=70000"],
    ["mtu of the wrong type", { mtu: "1500" }, "mtu"],
    ["multiQueue of the wrong type", { multiQueue: "yes" }, "multiQueue"],
    ["a negative owner", { owner: -1 }, "owner"],
    ["an owner beyond 32 bits", { owner: 2 ** 32 }, "owner"],
    ["group of the wrong type", { group: "wheel" }, "group"],
    ["selinuxContext of the wrong type", { selinuxContext: 5 }, "selinuxContext"],
    ["bridge of the wrong type", { bridge: 5 }, "bridge"],
    ["a bridge the container does not have", { bridge: "tpnobridge" }, 'bridge="tpnobridge": no such bridge'],
  ];
  it.each(cases)("%s", (_what, settings, named, args) => {
    container = createNetns("tpc");
    const add = call("ADD", tapConfig(settings), { args });
    expect(add.status).toBe(1);
    expect(add.json.code, add.stdout).toBe(7);
    expect(add.json.msg).toContain(named);
    expect(add.stderr).not.toMatch(/internal error|at .*\.ts:\d+/);
    expect(tapView()).toBeUndefined();
  });

  it("refuses a bridge that is another kind of link", () => {
    container = createNetns("tpc");
    container.exec(["ip", "link", "add", "tpveth", "type", "veth", "peer", "name", "tpveth1"]);
    const add = call("ADD", tapConfig({ bridge: "tpveth" }));
    expect(add.json).toMatchObject({ code: 7, msg: 'invalid config: bridge="tpveth": is a veth in the container\'s network namespace, not a bridge' });
    expect(tapView()).toBeUndefined();
  });

  it("refuses with code 4 naming CNI_IFNAME when the container already has the name", () => {
    container = createNetns("tpc");
    container.exec(["ip", "link", "add", "tap0", "type", "veth", "peer", "name", "tpveth1"]);
    const add = call("ADD", tapConfig());
    expect(add.json).toMatchObject({ code: 4, msg: "CNI_IFNAME: an interface named tap0 already exists in the container" });
    expect(tapView()!.linkinfo.info_kind).toBe("veth");
  });

  it("refuses unknown CNI_ARGS keys with code 4 unless IgnoreUnknown", () => {
    container = createNetns("tpc");
    expect(call("ADD", tapConfig(), { args: "K8S_POD_NAME=x" }).json).toMatchObject({ code: 4 });
    expect(call("ADD", tapConfig(), { args: "IgnoreUnknown=1;K8S_POD_NAME=x" }).status).toBe(0);
    mustCall("tap", { command: "DEL", config: tapConfig(), containerId: "tp-it", netns: container.path, ifname: "tap0" });
  });
});

describe("tap speaks every spec version", () => {
  it.each(["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"])("ADD and DEL at %s", (cniVersion) => {
    container = createNetns("tpc");
    const config = { ...tapConfig({ ipam: { type: "static", addresses: [{ address: "10.231.31.5/24" }] } }), cniVersion };
    const add = call("ADD", config);
    expect(add.status, add.stdout).toBe(0);
    expect(add.json.cniVersion).toBe(cniVersion);
    expect(JSON.stringify(add.json)).toContain("10.231.31.5/24");
    expect(call("DEL", config).status).toBe(0);
    expect(tapView()).toBeUndefined();
  });
});
