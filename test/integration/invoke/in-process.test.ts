/**
 * Delegation to IPAM from our bridge, both ways: to our own executable in the same process, and
 * to any other host-local (a copy of ours, the reference's) as a process of its own. Which way
 * was taken is read from an strace of the bridge: the programs it executed.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PluginCall, PluginOutcome } from "../../helpers/cni.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { DIST, OUR_BIN, REFERENCE_BIN } from "../../helpers/paths.ts";

const BRIDGE = join(OUR_BIN, "bridge");
const scratch = mkdtempSync(join(tmpdir(), "invoke-it-"));
/** CNI_PATH directories: a copy of our executable (another inode), and a symlink to it. */
const copyDir = join(scratch, "copy");
const symlinkDir = join(scratch, "symlink");

beforeAll(() => {
  if (spawnSync("strace", ["-V"]).status !== 0) throw new Error("these tests need strace to see which programs the bridge runs");
  for (const dir of [copyDir, symlinkDir]) spawnSync("mkdir", ["-p", dir]);
  copyFileSync(join(DIST, "cni"), join(copyDir, "host-local"));
  chmodSync(join(copyDir, "host-local"), 0o755);
  symlinkSync(join(DIST, "cni"), join(symlinkDir, "host-local"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface TracedOutcome extends PluginOutcome {
  /** Programs the bridge executed (besides itself), as full paths. */
  executed: string[];
}

let traceCount = 0;

/** Runs our bridge as a runtime would, under strace, and lists what it executed. */
function tracedBridge(call: PluginCall & { path: string }): TracedOutcome {
  const log = join(scratch, `trace-${traceCount++}`);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId ?? "",
    CNI_NETNS: call.netns ?? "",
    CNI_IFNAME: call.ifname ?? "",
    CNI_ARGS: call.args ?? "",
    CNI_PATH: call.path,
  };
  const proc = spawnSync("strace", ["-f", "-qq", "-e", "trace=execve", "-e", "signal=none", "-o", log, BRIDGE], {
    env,
    input: JSON.stringify(call.config),
    encoding: "utf8",
    timeout: 60_000,
  });
  const stdout = proc.stdout.trim();
  const executed = [...readFileSync(log, "utf8").matchAll(/execve\("([^"]+)"[^\n]*= 0\n/g)].map((match) => match[1]!).filter((path) => path !== BRIDGE);
  return { status: proc.status ?? -1, stdout, stderr: proc.stderr, json: stdout ? JSON.parse(stdout) : undefined, executed };
}

let network: TestNetwork;
let netns: TestNetns;

function setUp(cniVersion = "1.0.0", ipam: Record<string, unknown> = {}) {
  network = createTestNetwork({ dualStack: false });
  netns = createNetns("inv");
  const config = network.bridgeConfig({}, cniVersion);
  return { ...config, ipam: { ...(config.ipam as object), ...ipam } };
}

afterEach(() => {
  netns?.remove();
  network?.cleanup();
});

function leases(): string[] {
  const dir = join(network.dataDir, network.name);
  return existsSync(dir) ? readdirSync(dir).filter((name) => /^\d+\.\d+\.\d+\.\d+$/.test(name)) : [];
}

const attachment = () => ({ containerId: "inproc1", netns: netns.path, ifname: "eth0" });

describe("delegation to our own host-local", () => {
  it("runs ADD, CHECK and DEL of host-local inside the bridge's process", () => {
    const config = setUp();
    const add = tracedBridge({ command: "ADD", config, ...attachment(), path: OUR_BIN });
    expect(add.status, add.stdout).toBe(0);
    expect(add.json.ips[0].address).toBe(`${network.subnets.v4Prefix}.2/24`);
    expect(readFileSync(join(network.dataDir, network.name, `${network.subnets.v4Prefix}.2`), "utf8")).toBe("inproc1\r\neth0");

    const check = tracedBridge({ command: "CHECK", config: { ...config, prevResult: add.json }, ...attachment(), path: OUR_BIN });
    expect(check.status, check.stdout).toBe(0);
    const del = tracedBridge({ command: "DEL", config: { ...config, prevResult: add.json }, ...attachment(), path: OUR_BIN });
    expect(del.status, del.stdout).toBe(0);

    expect([add.executed, check.executed, del.executed]).toEqual([[], [], []]);
    expect(leases()).toEqual([]);
  });

  it("runs STATUS and GC of host-local inside the bridge's process", () => {
    const config = setUp("1.1.0");
    expect(tracedBridge({ command: "ADD", config, ...attachment(), path: OUR_BIN }).status).toBe(0);
    const status = tracedBridge({ command: "STATUS", config, path: OUR_BIN });
    expect(status.status, status.stdout).toBe(0);
    const gc = tracedBridge({ command: "GC", config: { ...config, "cni.dev/valid-attachments": [] }, path: OUR_BIN });
    expect(gc.status, gc.stdout).toBe(0);
    expect([status.executed, gc.executed]).toEqual([[], []]);
    expect(leases()).toEqual([]); // GC released the lease of the attachment no longer valid
  });

  it("treats a symbolic link to our executable as our own", () => {
    const config = setUp();
    const add = tracedBridge({ command: "ADD", config, ...attachment(), path: symlinkDir });
    expect(add.status, add.stdout).toBe(0);
    expect(add.executed).toEqual([]);
    expect(tracedBridge({ command: "DEL", config, ...attachment(), path: symlinkDir }).status).toBe(0);
  });
});

describe("delegation to another host-local", () => {
  it("runs a copy of our executable (another file) as a process of its own", () => {
    const config = setUp();
    const add = tracedBridge({ command: "ADD", config, ...attachment(), path: copyDir });
    expect(add.status, add.stdout).toBe(0);
    expect(add.executed).toEqual([join(copyDir, "host-local")]);
    const del = tracedBridge({ command: "DEL", config: { ...config, prevResult: add.json }, ...attachment(), path: copyDir });
    expect(del.executed).toEqual([join(copyDir, "host-local")]);
    expect(leases()).toEqual([]);
  });

  it("runs the reference host-local as a process of its own", () => {
    const config = setUp();
    const add = tracedBridge({ command: "ADD", config, ...attachment(), path: REFERENCE_BIN });
    expect(add.status, add.stdout).toBe(0);
    expect(add.executed).toEqual([join(REFERENCE_BIN, "host-local")]);
    expect(tracedBridge({ command: "DEL", config, ...attachment(), path: REFERENCE_BIN }).status).toBe(0);
    expect(leases()).toEqual([]);
  });
});

describe("both ways of delegating", () => {
  const ways = [
    ["in process", () => OUR_BIN],
    ["as a process", () => copyDir],
  ] as const;

  it.each(ways)("return the same result and leave the same lease (%s)", (_way, path) => {
    const config = setUp();
    const add = tracedBridge({ command: "ADD", config, ...attachment(), path: path() });
    expect(add.status, add.stdout).toBe(0);
    expect({ ips: add.json.ips, routes: add.json.routes, cniVersion: add.json.cniVersion }).toEqual({
      cniVersion: "1.0.0",
      ips: [{ address: `${network.subnets.v4Prefix}.2/24`, gateway: `${network.subnets.v4Prefix}.1`, interface: 2 }],
      routes: undefined,
    });
    expect(leases()).toEqual([`${network.subnets.v4Prefix}.2`]);
    expect(tracedBridge({ command: "DEL", config, ...attachment(), path: path() }).status).toBe(0);
    expect(leases()).toEqual([]);
  });

  it.each(ways)("pass the delegate's error on unchanged and undo the ADD (%s)", (_way, path) => {
    const config = setUp("1.0.0", { ranges: [[{ subnet: "10.250.0.0/24", rangeStart: "10.250.1.5" }]] });
    const add = tracedBridge({ command: "ADD", config, ...attachment(), path: path() });
    expect(add.status).toBe(1);
    expect(add.json).toEqual({
      cniVersion: "1.0.0",
      code: 7,
      msg: expect.stringMatching(/^host-local ADD: invalid config: .*rangeStart.*10\.250\.1\.5/),
    });
    expect(netns.exec(["ip", "-o", "link", "show"]).trim().split("\n")).toHaveLength(1); // only lo
  });

  it("give byte-identical error objects", () => {
    const config = setUp("1.0.0", { ranges: [[{ subnet: "10.250.0.0/24", rangeStart: "10.250.1.5" }]] });
    const inProcess = tracedBridge({ command: "ADD", config, ...attachment(), path: OUR_BIN });
    const asProcess = tracedBridge({ command: "ADD", config, ...attachment(), path: copyDir });
    expect(inProcess.stdout).toBe(asProcess.stdout);
    expect(inProcess.status).toBe(asProcess.status);
  });
});
