import { existsSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { callPlugin } from "../../helpers/cni.ts";
import { OUR_TUNING, TuningContainer } from "./harness.ts";

const MAC = "c2:11:22:33:44:55";
const SETTINGS = { mac: MAC, mtu: 1400, promisc: true, allmulti: true, txQLen: 321 };
const SYSCTLS = {
  "net.ipv4.conf.IFNAME.arp_ignore": "1",
  "net.ipv4.conf.eth0.arp_filter": "1",
  "net/core/somaxconn": "777",
};

describe("tuning chained after bridge + host-local, in real namespaces", () => {
  const containers: TuningContainer[] = [];
  afterEach(() => {
    for (const container of containers.splice(0)) container.remove();
  });
  function attached(): TuningContainer {
    const container = new TuningContainer();
    containers.push(container);
    container.attach();
    return container;
  }

  it("sets the sysctls inside the container namespace, IFNAME meaning the interface", () => {
    const c = attached();
    const hostSomaxconn = readFileSync("/proc/sys/net/core/somaxconn", "utf8").trim();
    expect(c.sysctl("net/ipv4/conf/eth0/arp_ignore")).toBe("0");
    expect(c.tuning("ADD", c.config({ sysctl: SYSCTLS }))).toMatchObject({ status: 0 });
    expect(c.sysctl("net/ipv4/conf/eth0/arp_ignore")).toBe("1");
    expect(c.sysctl("net/ipv4/conf/eth0/arp_filter")).toBe("1");
    expect(c.sysctl("net/core/somaxconn")).toBe("777");
    expect(readFileSync("/proc/sys/net/core/somaxconn", "utf8").trim()).toBe(hostSomaxconn);
  });

  it("sets MAC, MTU, promiscuous and all-multicast mode and queue length on the interface", () => {
    const c = attached();
    expect(c.tuning("ADD", c.config(SETTINGS))).toMatchObject({ status: 0 });
    expect(c.link()).toEqual({ mtu: 1400, mac: MAC, promisc: true, allmulti: true, txqlen: 321 });
  });

  it("passes the bridge's result on with the interface's new MAC", () => {
    const c = attached();
    const before = c.prevResult as { interfaces: { name: string; mac: string; sandbox?: string }[] };
    const result = c.tuning("ADD", c.config({ mac: "C2-11-22-33-44-55" })).json;
    expect(result).toEqual({
      ...before,
      cniVersion: "1.0.0",
      interfaces: before.interfaces.map((entry) => (entry.sandbox ? { ...entry, mac: MAC } : entry)),
    });
    expect(before.interfaces.filter((entry) => entry.sandbox)).toHaveLength(1);
  });

  it("updates only the container's entry: not a host interface of the same name, and its MTU only where listed", () => {
    const c = attached();
    const prevResult = c.prevResult as { interfaces: Record<string, unknown>[] };
    const hostNamesake = { name: "eth0", mac: "02:00:00:00:00:01" };
    const crafted = { ...prevResult, interfaces: [...prevResult.interfaces.map((entry) => (entry.sandbox ? { ...entry, mtu: 1500 } : entry)), hostNamesake] };
    const result = c.tuning("ADD", { ...c.config({ mac: MAC, mtu: 1400 }), prevResult: crafted }).json;
    expect(result.interfaces.at(-1)).toEqual(hostNamesake);
    expect(result.interfaces.find((entry: { sandbox?: string }) => entry.sandbox)).toMatchObject({ name: "eth0", mac: MAC, mtu: 1400 });
  });

  it("puts every interface setting back on DEL, before the bridge removes the interface", () => {
    const c = attached();
    const original = c.link();
    c.tuning("ADD", c.config(SETTINGS));
    expect(c.link()).not.toEqual(original);
    expect(c.tuning("DEL", c.config(SETTINGS))).toMatchObject({ status: 0, stdout: "" });
    expect(c.link()).toEqual(original);
    expect(existsSync(c.savedStatePath())).toBe(false);
    c.detach();
  });

  it("saves the original values in the reference's file while attached", () => {
    const c = attached();
    const original = c.link();
    c.tuning("ADD", c.config({ mtu: 1400, allmulti: true }));
    expect(readFileSync(c.savedStatePath(), "utf8")).toBe(
      `{\n "mtu": ${original.mtu},\n "allmulti": ${original.allmulti},\n "network": "${c.network.name}"\n}`,
    );
  });

  it("leaves the sysctls to go with the interface and the namespace on DEL", () => {
    const c = attached();
    c.tuning("ADD", c.config({ sysctl: SYSCTLS }));
    c.tuning("DEL", c.config({ sysctl: SYSCTLS }));
    expect(c.sysctl("net/core/somaxconn")).toBe("777");
  });

  it("passes CHECK after ADD", () => {
    const c = attached();
    const config = c.config({ ...SETTINGS, sysctl: SYSCTLS });
    const result = c.tuning("ADD", config).json;
    expect(c.tuning("CHECK", { ...config, prevResult: result })).toMatchObject({ status: 0, stdout: "" });
  });

  it.each([
    ["mtu", ["link", "set", "eth0", "mtu", "1300"], "MTU (mtu) is 1300, configured 1400"],
    ["mac", ["link", "set", "eth0", "address", "c2:00:00:00:00:99"], `MAC address (mac) is c2:00:00:00:00:99, configured ${MAC}`],
    ["promisc", ["link", "set", "eth0", "promisc", "off"], "promiscuous mode (promisc) is off, configured on"],
    ["allmulti", ["link", "set", "eth0", "allmulticast", "off"], "all-multicast mode (allmulti) is off, configured on"],
    ["txQLen", ["link", "set", "eth0", "txqueuelen", "99"], "transmit queue length (txQLen) is 99, configured 321"],
  ])("fails CHECK with 104 once %s is changed by hand", (_setting, ipArgs, message) => {
    const c = attached();
    const config = c.config(SETTINGS);
    const result = c.tuning("ADD", config).json;
    c.netns.exec(["ip", ...ipArgs]);
    const check = c.tuning("CHECK", { ...config, prevResult: result });
    expect(check.status).not.toBe(0);
    expect(check.json).toMatchObject({ code: 104, msg: `eth0: ${message}` });
  });

  it("fails CHECK with 104 naming the sysctl once it is changed by hand", () => {
    const c = attached();
    const config = c.config({ sysctl: SYSCTLS });
    const result = c.tuning("ADD", config).json;
    c.netns.exec(["sysctl", "-qw", "net.core.somaxconn=100"]);
    expect(c.tuning("CHECK", { ...config, prevResult: result }).json).toMatchObject({
      code: 104,
      msg: 'sysctl net/core/somaxconn (/proc/sys/net/core/somaxconn) is "100", configured "777"',
    });
  });

  it("refuses traversal attempts with 7 and writes nothing, not even the valid keys", () => {
    const c = attached();
    const watched = ["net/core/somaxconn", "net/ipv4/conf/eth0/arp_ignore", "net/ipv4/conf/all/arp_ignore"];
    const before = watched.map((path) => c.sysctl(path));
    const hostSomaxconn = readFileSync("/proc/sys/net/core/somaxconn", "utf8");
    for (const key of ["net/../kernel/x", "net.ipv4/../../x", "kernel.hostname", "net.ipv4.conf.eth0..arp_ignore", "net/ipv4/../ipv4/conf/all/arp_ignore"]) {
      const outcome = c.tuning("ADD", c.config({ sysctl: { "net.core.somaxconn": "999", [key]: "2" } }));
      expect(outcome.json).toMatchObject({ code: 7, msg: expect.stringContaining(`sysctl key ${JSON.stringify(key)}`) });
    }
    expect(watched.map((path) => c.sysctl(path))).toEqual(before);
    expect(readFileSync("/proc/sys/net/core/somaxconn", "utf8")).toBe(hostSomaxconn);
  });

  it("undoes what it did when a later setting fails, and keeps no saved file", () => {
    const c = attached();
    const original = c.link();
    const somaxconn = c.sysctl("net/core/somaxconn");
    const outcome = c.tuning("ADD", c.config({ sysctl: { "net.core.somaxconn": "555" }, mac: MAC, mtu: 70000 }));
    expect(outcome.json).toMatchObject({ code: 7, msg: expect.stringContaining("invalid config: mtu=70000") });
    expect(c.link()).toEqual(original);
    expect(c.sysctl("net/core/somaxconn")).toBe(somaxconn);
    expect(existsSync(c.savedStatePath())).toBe(false);
  });

  it("refuses a MAC the interface cannot take, a multicast one (7)", () => {
    const c = attached();
    expect(c.tuning("ADD", c.config({ mac: "01:00:5e:00:00:01" })).json).toMatchObject({
      code: 7,
      msg: expect.stringContaining('invalid config: mac="01:00:5e:00:00:01": eth0 does not accept this MAC address'),
    });
  });

  it("names a sysctl the namespace does not have (7)", () => {
    const c = attached();
    expect(c.tuning("ADD", c.config({ sysctl: { "net.ipv4.conf.IFNAME.no_such_setting": "1" } })).json).toMatchObject({
      code: 7,
      msg: expect.stringContaining('sysctl key "net.ipv4.conf.IFNAME.no_such_setting": /proc/sys/net/ipv4/conf/eth0/no_such_setting does not exist'),
    });
  });

  it("needs prevResult (7 naming it)", () => {
    const c = attached();
    const outcome = c.tuning("ADD", c.config({ mtu: 1400 }, { prevResult: false }));
    expect(outcome.json).toMatchObject({ code: 7, msg: expect.stringContaining("prevResult=(missing)") });
    expect(c.link().mtu).not.toBe(1400);
  });

  it("succeeds on a second DEL", () => {
    const c = attached();
    const original = c.link();
    c.tuning("ADD", c.config(SETTINGS));
    expect(c.tuning("DEL", c.config(SETTINGS)).status).toBe(0);
    expect(c.tuning("DEL", c.config(SETTINGS)).status).toBe(0);
    expect(c.link()).toEqual(original);
  });

  it("succeeds on DEL after the namespace is gone, and drops the saved file", () => {
    const c = attached();
    c.tuning("ADD", c.config(SETTINGS));
    expect(existsSync(c.savedStatePath())).toBe(true);
    c.netns.remove();
    expect(c.tuning("DEL", c.config(SETTINGS)).status).toBe(0);
    expect(existsSync(c.savedStatePath())).toBe(false);
    c.detach();
  });

  it("succeeds on DEL after the interface is gone, and drops the saved file", () => {
    const c = attached();
    c.tuning("ADD", c.config(SETTINGS));
    c.detach();
    expect(c.tuning("DEL", c.config(SETTINGS)).status).toBe(0);
    expect(existsSync(c.savedStatePath())).toBe(false);
  });

  it("drops the saved file on DEL when the kernel refuses an original value back (loopback's all-zero MAC)", () => {
    const c = attached();
    const call = (command: "ADD" | "DEL") =>
      callPlugin(OUR_TUNING, { command, config: c.config({ mac: "c2:11:22:33:44:77" }), containerId: c.containerId, netns: c.netns.path, ifname: "lo" });
    expect(call("ADD").status).toBe(0);
    const saved = join(c.dataDir, `${c.containerId}_lo.json`);
    expect(existsSync(saved)).toBe(true);
    const del = call("DEL");
    expect(del.status).toBe(0);
    expect(del.stderr).toContain("the kernel refuses these values");
    expect(existsSync(saved)).toBe(false);
  });

  it("succeeds on DEL without CNI_NETNS, with nothing it could restore", () => {
    const c = attached();
    c.tuning("ADD", c.config(SETTINGS));
    expect(c.tuning("DEL", c.config(SETTINGS), { netns: "" }).status).toBe(0);
    expect(existsSync(c.savedStatePath())).toBe(false);
    expect(c.link().mtu).toBe(1400);
  });

  it("deletes even with a configuration ADD refused", () => {
    const c = attached();
    const bad = c.config({ mac: "not-a-mac", sysctl: { "kernel.hostname": "x" } });
    expect(c.tuning("ADD", bad).json).toMatchObject({ code: 7 });
    expect(c.tuning("DEL", bad).status).toBe(0);
  });

  it("keeps its state in /run/cni/tuning when no dataDir is set", () => {
    const c = attached();
    const { dataDir: _dataDir, ...config } = c.config({ mtu: 1400 });
    const path = `/run/cni/tuning/${c.containerId}_eth0.json`;
    const dirWasThere = existsSync("/run/cni/tuning");
    try {
      c.tuning("ADD", config);
      expect(existsSync(path)).toBe(true);
      c.tuning("DEL", config);
      expect(existsSync(path)).toBe(false);
    } finally {
      rmSync(path, { force: true });
      // Only an empty directory the test made: other runtimes' plugins may share it meanwhile.
      if (!dirWasThere) removeIfEmpty("/run/cni/tuning");
    }
  });

  it("answers STATUS and GC, removing only its own network's stale saved settings", () => {
    const c = attached();
    c.tuning("ADD", c.config({ mtu: 1400 }));
    const gcConfig = (valid: object[]) => ({ cniVersion: "1.1.0", name: c.network.name, type: "tuning", dataDir: c.dataDir, "cni.dev/valid-attachments": valid });
    expect(c.tuning("STATUS", { cniVersion: "1.1.0", name: c.network.name, type: "tuning" })).toMatchObject({ status: 0, stdout: "" });
    expect(c.tuning("GC", gcConfig([{ containerID: c.containerId, ifname: "eth0" }])).status).toBe(0);
    expect(existsSync(c.savedStatePath())).toBe(true);
    expect(c.tuning("GC", { ...gcConfig([]), name: "some-other-network" }).status).toBe(0);
    expect(existsSync(c.savedStatePath())).toBe(true);
    expect(c.tuning("GC", gcConfig([])).status).toBe(0);
    expect(existsSync(c.savedStatePath())).toBe(false);
  });

  it("converts the result to the configuration's version", () => {
    const container = new TuningContainer();
    containers.push(container);
    container.attach("0.3.1");
    const result = container.tuning("ADD", container.config({ mac: MAC }, { cniVersion: "0.3.1" })).json;
    expect(result.cniVersion).toBe("0.3.1");
    expect(result.ips[0]).toMatchObject({ version: "4" });
    expect(result.interfaces.find((entry: { sandbox?: string }) => entry.sandbox).mac).toBe(MAC);
  });
});

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty (or gone): not the test's to remove
  }
}
