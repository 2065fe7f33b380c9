import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCnitool } from "../../../lib/runtime/cli.ts";
import { uniqueName } from "../../helpers/tag.ts";
import { createFakePlugin, readCalls, type FakePluginOptions } from "./fake-plugin.ts";

/**
 * cnitool run in-process with fake plugins: arguments, environment, output and exit statuses.
 * cnitool keeps its cache where upstream's does (/var/lib/cni/results, no override), so every
 * test uses a network name of its own and removes that network's cache files afterwards.
 */
const CACHE_RESULTS = "/var/lib/cni/results";

let work: string;
let network: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "cnitool-unit-"));
  mkdirSync(join(work, "net.d"));
  network = uniqueName("ct");
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
  if (existsSync(CACHE_RESULTS)) {
    for (const file of readdirSync(CACHE_RESULTS)) {
      if (file.startsWith(`${network}-`)) rmSync(join(CACHE_RESULTS, file));
    }
  }
});

interface Outcome {
  status: number;
  stdout: string;
  stderr: string;
}

async function cnitool(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const status = await runCnitool(args, {
    env: { PATH: process.env.PATH, NETCONFPATH: join(work, "net.d"), CNI_PATH: join(work, "bin"), ...env },
    stdout,
    stderr,
  });
  return { status, stdout: out, stderr: err };
}

function plugin(type: string, options: FakePluginOptions = {}): void {
  createFakePlugin(join(work, "bin"), join(work, "record"), type, options);
}

function conflist(plugins: object[], extra: object = {}): void {
  writeFileSync(join(work, "net.d", `10-${network}.conflist`), JSON.stringify({ cniVersion: "1.1.0", name: network, plugins, ...extra }));
}

/** Upstream's container ID, computed with coreutils rather than our code: "cnitool-" + 20 hex digits of SHA-512. */
function upstreamContainerId(absoluteNetnsPath: string): string {
  return `cnitool-${execFileSync("sha512sum", { input: absoluteNetnsPath, encoding: "utf8" }).slice(0, 20)}`;
}

describe("cnitool arguments", () => {
  it("prints the usage on --help and exits 0", async () => {
    const outcome = await cnitool(["--help"]);
    expect(outcome.status).toBe(0);
    expect(outcome.stdout).toMatch(/^Usage: cnitool/);
  });

  it.each([
    [[], "no command given"],
    [["attach", "net", "/run/netns/x"], 'unknown command "attach"'],
    [["add"], "add needs a network name"],
    [["add", "net"], "add needs the path of a network namespace"],
    [["del", "net", "/a", "/b"], "unexpected arguments: /b"],
    [["-x", "add", "net", "/a"], "unknown option -x"],
    [["add", "net", "/a", "-i"], "-i needs an interface name"],
  ])("exits 2 with the usage for %j", async (args, message) => {
    const outcome = await cnitool(args);
    expect(outcome.status).toBe(2);
    expect(outcome.stderr).toContain(`cnitool: ${message}`);
    expect(outcome.stderr).toContain("Usage: cnitool");
    expect(outcome.stdout).toBe("");
  });

  it.each([
    [{ CAP_ARGS: "{not json" }, "CAP_ARGS is not JSON"],
    [{ CAP_ARGS: "[1]" }, "CAP_ARGS must be a JSON object"],
    [{ CNI_ARGS: "A=1;B=" }, 'CNI_ARGS: invalid pair "B="'],
    [{ CNI_IFNAME: "name/with/slash" }, "interface name"],
  ])("exits 2 on a bad environment %j", async (env, message) => {
    const outcome = await cnitool(["add", network, "/run/netns/x"], env);
    expect(outcome.status).toBe(2);
    expect(outcome.stderr).toContain(message);
  });
});

describe("cnitool add, check, del", () => {
  it("adds with upstream's container ID, prints the result indented and caches it where libcni does", async () => {
    plugin("fake", { addResult: { cniVersion: "1.1.0", ips: [{ address: "10.7.0.2/24" }], dns: {} } });
    conflist([{ type: "fake" }]);
    const netns = join(work, "ns");
    const outcome = await cnitool(["add", network, netns]);
    expect(outcome).toEqual({
      status: 0,
      stdout: '{\n    "cniVersion": "1.1.0",\n    "ips": [\n        {\n            "address": "10.7.0.2/24"\n        }\n    ],\n    "dns": {}\n}\n',
      stderr: "",
    });
    const containerId = upstreamContainerId(netns);
    expect(readCalls(join(work, "record"))[0]!.cniEnv).toMatchObject({ CNI_CONTAINERID: containerId, CNI_NETNS: netns, CNI_IFNAME: "eth0" });
    expect(existsSync(join(CACHE_RESULTS, `${network}-${containerId}-eth0`))).toBe(true);
  });

  it("derives the same container ID from a relative namespace path, so del finds what add cached", async () => {
    plugin("fake");
    conflist([{ type: "fake" }]);
    const netns = join(work, "ns");
    expect((await cnitool(["add", network, netns])).status).toBe(0);
    expect((await cnitool(["del", network, relative(process.cwd(), netns)])).status).toBe(0);
    const [add, del] = readCalls(join(work, "record"));
    expect(del!.cniEnv.CNI_CONTAINERID).toBe(add!.cniEnv.CNI_CONTAINERID);
    expect(JSON.parse(del!.stdin).prevResult).toBeDefined();
    expect(existsSync(join(CACHE_RESULTS, `${network}-${upstreamContainerId(netns)}-eth0`))).toBe(false);
  });

  it("passes CNI_ARGS, CAP_ARGS and the interface name (the -i flag before CNI_IFNAME) to the plugins", async () => {
    plugin("fake");
    conflist([{ type: "fake", capabilities: { portMappings: true } }]);
    const portMappings = [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }];
    const outcome = await cnitool(["-i", "net1", "add", network, "/run/netns/x"], {
      CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAME=web",
      CAP_ARGS: JSON.stringify({ portMappings, mac: "0a:00:00:00:00:01" }),
      CNI_IFNAME: "ignored0",
    });
    expect(outcome.status).toBe(0);
    const [call] = readCalls(join(work, "record"));
    expect(call!.cniEnv).toMatchObject({ CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAME=web", CNI_IFNAME: "net1" });
    expect(JSON.parse(call!.stdin).runtimeConfig).toEqual({ portMappings });
  });

  it("prints a plugin's error object on stdout and a line on stderr, and exits 1", async () => {
    plugin("fake", { failOn: { commands: ["CHECK"], error: { cniVersion: "1.1.0", code: 104, msg: "address missing", details: "eth0" } } });
    conflist([{ type: "fake" }]);
    const outcome = await cnitool(["check", network, "/run/netns/x"]);
    expect(outcome.status).toBe(1);
    expect(JSON.parse(outcome.stdout)).toEqual({ cniVersion: "1.1.0", code: 104, msg: "address missing", details: "eth0" });
    expect(outcome.stderr).toBe(`cnitool: plugin "fake" of network "${network}" failed (CHECK): address missing (eth0)\n`);
  });

  it("exits 3 when the network is not configured", async () => {
    const outcome = await cnitool(["add", "nonexistent", "/run/netns/x"]);
    expect(outcome.status).toBe(3);
    expect(outcome.stderr).toContain(`no network configuration named "nonexistent" in ${join(work, "net.d")}`);
  });

  it("exits 3 when the network's file is invalid, naming the file and field", async () => {
    conflist([{ type: "fake" }, { mtu: 1 }]);
    const outcome = await cnitool(["add", network, "/run/netns/x"]);
    expect(outcome.status).toBe(3);
    expect(outcome.stderr).toContain(`10-${network}.conflist: plugins[1].type: is required`);
  });

  it("warns about other broken files but carries on", async () => {
    plugin("fake");
    conflist([{ type: "fake" }]);
    writeFileSync(join(work, "net.d", "99-broken.conflist"), "{");
    const outcome = await cnitool(["add", network, "/run/netns/x"]);
    expect(outcome.status).toBe(0);
    expect(outcome.stderr).toMatch(/^cnitool: warning: ignoring .*99-broken\.conflist: invalid JSON/);
  });

  it("exits 4 when a plugin cannot be found", async () => {
    conflist([{ type: "absent" }]);
    const outcome = await cnitool(["add", network, "/run/netns/x"]);
    expect(outcome.status).toBe(4);
    expect(outcome.stderr).toContain('plugin executable "absent" not found');
  });
});

describe("cnitool gc and status", () => {
  it("gc deletes every cached attachment of the network and sends GC with no valid attachments", async () => {
    plugin("fake");
    conflist([{ type: "fake" }]);
    expect((await cnitool(["add", network, "/run/netns/one"])).status).toBe(0);
    expect((await cnitool(["add", network, "/run/netns/two"])).status).toBe(0);
    expect((await cnitool(["gc", network])).status).toBe(0);
    const calls = readCalls(join(work, "record"));
    expect(calls.map((call) => call.command)).toEqual(["ADD", "ADD", "DEL", "DEL", "GC"]);
    expect(new Set(calls.slice(2, 4).map((call) => call.cniEnv.CNI_NETNS))).toEqual(new Set(["/run/netns/one", "/run/netns/two"]));
    expect(JSON.parse(calls[4]!.stdin)["cni.dev/valid-attachments"]).toEqual([]);
    expect(readdirSync(CACHE_RESULTS).filter((file) => file.startsWith(`${network}-`))).toEqual([]);
  });

  it("status asks every plugin and exits 0 when all are ready", async () => {
    plugin("a");
    plugin("b");
    conflist([{ type: "a" }, { type: "b" }]);
    expect(await cnitool(["status", network])).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(readCalls(join(work, "record")).map((call) => `${call.plugin} ${call.command}`)).toEqual(["a STATUS", "b STATUS"]);
  });

  it("status exits 1 with the error object of a plugin that is not ready", async () => {
    plugin("a", { failOn: { commands: ["STATUS"], error: { code: 50, msg: "daemon down" } } });
    conflist([{ type: "a" }]);
    const outcome = await cnitool(["status", network, "/ignored"]);
    expect(outcome.status).toBe(1);
    expect(JSON.parse(outcome.stdout)).toEqual({ code: 50, msg: "daemon down" });
  });
});
