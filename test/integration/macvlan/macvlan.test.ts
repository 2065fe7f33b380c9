/**
 * macvlan, live: containers get macvlan links on a master (a veth end in a "host" namespace the
 * test makes, the plugin running there as on a host), talk to each other as the mode allows,
 * and leave nothing behind.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mustCall } from "../../helpers/cni.ts";
import { OUR_BIN } from "../../helpers/paths.ts";
import { ipv4, worldPerTest } from "./world.ts";

const world = worldPerTest();

describe("macvlan", () => {
  it("puts two containers on one master in bridge mode: they ping each other; CHECK passes; DEL removes the link and the lease", () => {
    const w = world();
    const [a, b] = [w.container(), w.container()];
    const config = w.config();
    const ra = w.call(a, "ADD", config, { containerId: "a" });
    const rb = w.call(b, "ADD", config, { containerId: "b" });
    expect(ra.status, ra.stdout).toBe(0);
    expect(rb.status, rb.stdout).toBe(0);
    expect(ra.json).toEqual({
      cniVersion: "1.0.0",
      interfaces: [{ name: "eth0", mac: w.link(a)!.address, sandbox: a.path }],
      ips: [{ interface: 0, address: expect.stringMatching(/\/24$/), gateway: `${w.subnet.v4Prefix}.1` }],
      dns: {},
    });
    const link = w.link(a)!;
    expect(link.linkinfo?.info_kind).toBe("macvlan");
    expect(link.linkinfo?.info_data?.mode).toBe("bridge");
    expect(link.link_netnsid).toBeDefined(); // its parent lives in the host namespace
    expect(a.exec(["sysctl", "-n", "net.ipv4.conf.eth0.arp_notify"]).trim()).toBe("1");

    expect(w.reaches(a, ipv4(rb.json))).toBe(true);
    expect(w.reaches(b, ipv4(ra.json))).toBe(true);

    expect(w.call(a, "CHECK", { ...config, prevResult: ra.json }, { containerId: "a" }).status).toBe(0);
    expect(w.leases()).toHaveLength(2);
    for (const [netns, id, result] of [[a, "a", ra], [b, "b", rb]] as const) {
      expect(w.call(netns, "DEL", { ...config, prevResult: result.json }, { containerId: id }).status).toBe(0);
      expect(w.link(netns)).toBeUndefined();
      expect(w.call(netns, "DEL", { ...config, prevResult: result.json }, { containerId: id }).status).toBe(0); // idempotent
    }
    expect(w.leases()).toEqual([]);
  });

  it("keeps two containers apart in private mode", () => {
    const w = world();
    const [a, b] = [w.container(), w.container()];
    const config = w.config({ mode: "private" });
    const ra = mustCall(join(OUR_BIN, "macvlan"), { command: "ADD", config, containerId: "a", netns: a.path, ifname: "eth0", host: w.host.name });
    const rb = mustCall(join(OUR_BIN, "macvlan"), { command: "ADD", config, containerId: "b", netns: b.path, ifname: "eth0", host: w.host.name });
    expect(w.link(a)!.linkinfo?.info_data?.mode).toBe("private");
    expect(w.reaches(a, ipv4(rb.json))).toBe(false);
    expect(w.call(a, "CHECK", { ...config, prevResult: ra.json }, { containerId: "a" }).status).toBe(0);
  });

  it("gives a layer-2 link without IPAM: up, no address, no ips in the result", () => {
    const w = world();
    const c = w.container();
    const config = { ...w.config(), ipam: undefined };
    const result = w.call(c, "ADD", config);
    expect(result.status, result.stdout).toBe(0);
    expect(result.json.ips).toBeUndefined();
    const link = w.link(c)!;
    expect(link.operstate).not.toBe("DOWN");
    expect(link.addr_info!.filter((info) => info.scope !== "link")).toEqual([]);
    expect(w.call(c, "CHECK", { ...config, prevResult: result.json }).status).toBe(0);
    expect(w.call(c, "DEL", config).status).toBe(0);
    expect(w.link(c)).toBeUndefined();
  });

  it("sets mtu and bcqueuelen, and takes the MAC from runtimeConfig over args.cni.mac over CNI_ARGS over mac", () => {
    const w = world();
    const c = w.container();
    const base = w.config({ mtu: 1400, bcqueuelen: 321, mac: "02:00:00:00:00:01" });
    const sources: [Record<string, unknown>, string | undefined, string][] = [
      [{}, undefined, "02:00:00:00:00:01"],
      [{}, "IgnoreUnknown=1;MAC=02:00:00:00:00:02", "02:00:00:00:00:02"],
      [{ args: { cni: { mac: "02:00:00:00:00:03" } } }, "IgnoreUnknown=1;MAC=02:00:00:00:00:02", "02:00:00:00:00:03"],
      [{ args: { cni: { mac: "02:00:00:00:00:03" } }, runtimeConfig: { mac: "02:00:00:00:00:04" } }, "IgnoreUnknown=1;MAC=02:00:00:00:00:02", "02:00:00:00:00:04"],
    ];
    for (const [extra, args, expected] of sources) {
      const config = { ...base, ...extra };
      const result = w.call(c, "ADD", config, { args });
      expect(result.status, result.stdout).toBe(0);
      expect(result.json.interfaces[0].mac).toBe(expected);
      const link = w.link(c)!;
      expect(link.address).toBe(expected);
      expect(link.mtu).toBe(1400);
      expect(link.linkinfo?.info_data?.bcqueuelen).toBe(321);
      expect(w.call(c, "DEL", config, { args }).status).toBe(0);
    }
  });

  it("takes the master from the host's default route when none is given", () => {
    const w = world();
    w.host.exec(["ip", "route", "add", "default", "dev", w.master]);
    const c = w.container();
    const config = { ...w.config(), master: undefined };
    const result = w.call(c, "ADD", config);
    expect(result.status, result.stdout).toBe(0);
    const masterIndex = Number(w.host.exec(["cat", `/sys/class/net/${w.master}/ifindex`]).trim());
    expect(c.exec(["cat", "/sys/class/net/eth0/iflink"]).trim()).toBe(String(masterIndex));
    expect(w.call(c, "DEL", config).status).toBe(0);
  });

  it("with linkInContainer, finds the master inside the container's namespace", () => {
    const w = world();
    const c = w.container();
    c.exec(["ip", "link", "add", "inner0", "type", "veth", "peer", "name", "inner1"]);
    c.exec(["ip", "link", "set", "inner0", "up"]);
    c.exec(["ip", "link", "set", "inner1", "up"]);
    const config = w.config({ master: "inner0", linkInContainer: true });
    const result = w.call(c, "ADD", config);
    expect(result.status, result.stdout).toBe(0);
    const link = w.link(c)!;
    expect(link.link_netnsid).toBeUndefined(); // parent in the same namespace
    expect(c.exec(["cat", "/sys/class/net/eth0/iflink"]).trim()).toBe(c.exec(["cat", "/sys/class/net/inner0/ifindex"]).trim());
    expect(w.call(c, "CHECK", { ...config, prevResult: result.json }).status).toBe(0);
    expect(w.call(c, "DEL", config).status).toBe(0);
    expect(w.link(c)).toBeUndefined();
    // The same master name looked up on the host is not there.
    const onHost = w.call(c, "ADD", { ...config, linkInContainer: false });
    expect(onHost.json).toMatchObject({ code: 7, msg: expect.stringContaining('master="inner0"') });
  });

  it("refuses a missing master with code 7 naming master, leaving no link and no lease", () => {
    const w = world();
    const c = w.container();
    const outcome = w.call(c, "ADD", w.config({ master: "mvnosuch0" }));
    expect(outcome.status).toBe(1);
    expect(outcome.json).toEqual({ cniVersion: "1.0.0", code: 7, msg: `invalid config: master="mvnosuch0": no interface of that name in the host's namespace` });
    expect(w.link(c)).toBeUndefined();
    expect(w.leases()).toEqual([]);
  });

  it("without master and without a default route, says so (code 7 naming master)", () => {
    const w = world();
    const outcome = w.call(w.container(), "ADD", { ...w.config(), master: "" });
    expect(outcome.json).toMatchObject({ code: 7, msg: expect.stringMatching(/^invalid config: master.*no default route/) });
  });

  it.each([
    ["mode", { mode: "bridged" }],
    ["mtu", { mtu: 9000 }],
    ["mtu", { mtu: -1 }],
    ["mac", { mac: "not-a-mac" }],
    ["mac", { mac: "01:00:5e:00:00:01" }],
    ["runtimeConfig.mac", { runtimeConfig: { mac: "zz" } }],
    ["bcqueuelen", { bcqueuelen: "big" }],
    ["linkInContainer", { linkInContainer: "yes" }],
    ["master", { master: 7 }],
  ])("answers a bad %s with code 7 naming it, leaving nothing behind", (field, extra) => {
    const w = world();
    const c = w.container();
    const outcome = w.call(c, "ADD", w.config(extra));
    expect(outcome.status).toBe(1);
    expect(outcome.json.code).toBe(7);
    expect(outcome.json.msg).toContain(field);
    expect(outcome.stderr).not.toMatch(/internal error|at .*\.ts:\d+/);
    expect(w.link(c)).toBeUndefined();
    expect(w.leases()).toEqual([]);
  });

  it("answers CNI_ARGS MAC that is no MAC with code 7, and an unknown CNI_ARGS key with code 4", () => {
    const w = world();
    const c = w.container();
    expect(w.call(c, "ADD", w.config(), { args: "MAC=nope" }).json).toMatchObject({ code: 7, msg: expect.stringContaining("CNI_ARGS MAC") });
    expect(w.call(c, "ADD", w.config(), { args: "FOO=1" }).json).toMatchObject({ code: 4 });
    expect(w.leases()).toEqual([]);
  });

  it("answers CNI_IFNAME already in the container with code 4, releasing the lease it took", () => {
    const w = world();
    const c = w.container();
    expect(w.call(c, "ADD", w.config()).status).toBe(0);
    const again = w.call(c, "ADD", w.config(), { containerId: "other" });
    expect(again.json).toMatchObject({ code: 4, msg: expect.stringContaining("CNI_IFNAME") });
    expect(w.leases()).toHaveLength(1);
  });

  it("CHECK finds a removed address, another mode, and a master that is gone (code 104)", () => {
    const w = world();
    const c = w.container();
    const config = w.config();
    const result = w.call(c, "ADD", config).json;
    const check = (conf: Record<string, unknown>) => w.call(c, "CHECK", { ...conf, prevResult: result });
    expect(check({ ...config, mode: "vepa" }).json).toMatchObject({ code: 104, msg: expect.stringContaining("mode") });
    c.exec(["ip", "addr", "flush", "dev", "eth0"]);
    expect(check(config).json).toMatchObject({ code: 104, msg: expect.stringContaining("address") });
    expect(check({ ...config, master: "mvnosuch0" }).json).toMatchObject({ code: 104, msg: expect.stringContaining("master") });
  });

  it("DEL with the container's namespace gone still releases the lease", () => {
    const w = world();
    const c = w.container();
    const config = w.config();
    const result = w.call(c, "ADD", config).json;
    c.remove();
    expect(w.call(c, "DEL", { ...config, prevResult: result }).status).toBe(0);
    expect(w.call("", "DEL", config).status).toBe(0);
    expect(w.leases()).toEqual([]);
  });

  it("answers every spec version in its own result shape", () => {
    const w = world();
    const c = w.container();
    const shapes: [string, Record<string, unknown>][] = [
      ["0.2.0", { ip4: { ip: expect.any(String), gateway: `${w.subnet.v4Prefix}.1` } }],
      ["0.3.1", { interfaces: [expect.objectContaining({ name: "eth0" })], ips: [expect.objectContaining({ version: "4", interface: 0 })] }],
      ["0.4.0", { ips: [expect.objectContaining({ version: "4" })] }],
      ["1.1.0", { ips: [expect.not.objectContaining({ version: "4" })] }],
    ];
    for (const [cniVersion, shape] of shapes) {
      const config = w.config({ cniVersion });
      const result = w.call(c, "ADD", config);
      expect(result.status, result.stdout).toBe(0);
      expect(result.json).toMatchObject({ cniVersion, ...shape });
      expect(w.call(c, "DEL", config).status).toBe(0);
    }
  });

  it("chains with tuning: tuning's MAC, MTU and sysctl land on the macvlan, and DEL of both cleans up", () => {
    const w = world();
    const c = w.container();
    const config = w.config();
    const added = w.call(c, "ADD", config);
    expect(added.status, added.stdout).toBe(0);
    const tuning = {
      cniVersion: "1.0.0",
      name: w.network,
      type: "tuning",
      mac: "02:00:00:00:00:42",
      mtu: 1300,
      sysctl: { "net.ipv4.conf.eth0.arp_ignore": "1" },
      dataDir: `${w.dir}/tuning`,
      prevResult: added.json,
    };
    const tuned = w.call(c, "ADD", tuning, { plugin: join(OUR_BIN, "tuning") });
    expect(tuned.status, tuned.stdout).toBe(0);
    expect(tuned.json.interfaces[0].mac).toBe("02:00:00:00:00:42");
    const link = w.link(c)!;
    expect([link.address, link.mtu]).toEqual(["02:00:00:00:00:42", 1300]);
    expect(c.exec(["sysctl", "-n", "net.ipv4.conf.eth0.arp_ignore"]).trim()).toBe("1");
    expect(w.call(c, "CHECK", { ...tuning, prevResult: tuned.json }, { plugin: join(OUR_BIN, "tuning") }).status).toBe(0);
    expect(w.call(c, "DEL", { ...tuning, prevResult: tuned.json }, { plugin: join(OUR_BIN, "tuning") }).status).toBe(0);
    expect(w.call(c, "DEL", { ...config, prevResult: tuned.json }).status).toBe(0);
    expect(w.link(c)).toBeUndefined();
    expect(w.leases()).toEqual([]);
  });
});
