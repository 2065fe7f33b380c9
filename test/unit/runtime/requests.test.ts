import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CniRuntime,
  networkConfigListFromBytes,
  PluginError,
  PluginExecError,
  type NetworkConfigList,
  type RuntimeConf,
} from "../../../lib/runtime/index.ts";
import { createFakePlugin, readCalls, type FakePluginOptions } from "./fake-plugin.ts";

/**
 * Golden tests of what the runtime sends each plugin (SPEC.md section 3): the exact stdin and
 * CNI_* environment of every call, recorded by fake plugins.
 */
let work: string;
let pluginDir: string;
let recordDir: string;
let cacheDir: string;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "runtime-requests-"));
  pluginDir = join(work, "bin");
  recordDir = join(work, "record");
  cacheDir = join(work, "cache");
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function runtime(stderr: PassThrough | null = null): CniRuntime {
  return new CniRuntime({ path: [join(work, "empty"), pluginDir], cacheDir, stderr });
}

function plugin(type: string, options: FakePluginOptions = {}): void {
  createFakePlugin(pluginDir, recordDir, type, options);
}

function list(config: object): NetworkConfigList {
  return networkConfigListFromBytes(JSON.stringify({ name: "golden", ...config }));
}

function calls(): { plugin: string; command: string; stdin: string }[] {
  return readCalls(recordDir).map(({ plugin, command, stdin }) => ({ plugin, command, stdin }));
}

const resultA = { cniVersion: "1.1.0", interfaces: [{ name: "eth0", mac: "0a:00:00:00:00:01", sandbox: "/run/netns/ct" }], ips: [{ address: "10.1.2.3/24", gateway: "10.1.2.1", interface: 0 }], dns: {} };
const resultB = { cniVersion: "1.1.0", interfaces: [{ name: "eth0", mac: "0a:00:00:00:00:02", sandbox: "/run/netns/ct" }], ips: [{ address: "10.1.2.3/24", gateway: "10.1.2.1", interface: 0 }], routes: [{ dst: "0.0.0.0/0", gw: "10.1.2.1" }], dns: {} };
/** resultA/resultB as they travel: in the wire shape libcni writes, keys sorted. */
const wireA = '{"cniVersion":"1.1.0","dns":{},"interfaces":[{"mac":"0a:00:00:00:00:01","name":"eth0","sandbox":"/run/netns/ct"}],"ips":[{"address":"10.1.2.3/24","gateway":"10.1.2.1","interface":0}]}';
const wireB = '{"cniVersion":"1.1.0","dns":{},"interfaces":[{"mac":"0a:00:00:00:00:02","name":"eth0","sandbox":"/run/netns/ct"}],"ips":[{"address":"10.1.2.3/24","gateway":"10.1.2.1","interface":0}],"routes":[{"dst":"0.0.0.0/0","gw":"10.1.2.1"}]}';

const chain = {
  cniVersion: "1.1.0",
  plugins: [
    { type: "first", bridge: "cni0", capabilities: { portMappings: true, mac: false }, ipam: { type: "host-local", subnet: "10.1.2.0/24" } },
    { type: "second", capabilities: { mac: true }, runtimeConfig: { static: 1 } },
    { type: "third", zeta: true, alpha: [3, 1, 2], runtimeConfig: { static: 2 } },
  ],
};

const rt: RuntimeConf = {
  containerId: "ctr-1",
  netns: "/run/netns/ct",
  ifName: "eth0",
  args: [["K8S_POD_NAME", "web"], ["IgnoreUnknown", "1"]],
  capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }], mac: "0a:58:00:00:00:01", bandwidth: { ingressRate: 1 } },
};

function setUpChain(): NetworkConfigList {
  plugin("first", { addResult: resultA });
  plugin("second", { addResult: resultB });
  plugin("third", { addResult: resultB });
  return list(chain);
}

describe("ADD", () => {
  it("sends each plugin its own keys, the list's name and version, its capabilities and the previous result", async () => {
    await runtime().addNetworkList(setUpChain(), rt);
    expect(calls()).toEqual([
      {
        plugin: "first",
        command: "ADD",
        stdin: '{"bridge":"cni0","capabilities":{"mac":false,"portMappings":true},"cniVersion":"1.1.0","ipam":{"subnet":"10.1.2.0/24","type":"host-local"},"name":"golden","runtimeConfig":{"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]},"type":"first"}',
      },
      {
        plugin: "second",
        command: "ADD",
        stdin: `{"capabilities":{"mac":true},"cniVersion":"1.1.0","name":"golden","prevResult":${wireA},"runtimeConfig":{"mac":"0a:58:00:00:00:01"},"type":"second"}`,
      },
      {
        plugin: "third",
        command: "ADD",
        stdin: `{"alpha":[3,1,2],"cniVersion":"1.1.0","name":"golden","prevResult":${wireB},"runtimeConfig":{"static":2},"type":"third","zeta":true}`,
      },
    ]);
  });

  it("sets the CNI_* variables as libcni does", async () => {
    await runtime().addNetworkList(setUpChain(), rt);
    expect(readCalls(recordDir)[0]!.cniEnv).toEqual({
      CNI_COMMAND: "ADD",
      CNI_CONTAINERID: "ctr-1",
      CNI_NETNS: "/run/netns/ct",
      CNI_IFNAME: "eth0",
      CNI_ARGS: "K8S_POD_NAME=web;IgnoreUnknown=1",
      CNI_PATH: `${join(work, "empty")}:${pluginDir}`,
    });
  });

  it("returns the last plugin's result and caches it with the list, the attachment and its arguments", async () => {
    const network = setUpChain();
    const result = await runtime().addNetworkList(network, rt);
    expect(result.cniVersion).toBe("1.1.0");
    expect(result.result.routes).toEqual([{ dst: "0.0.0.0/0", gw: "10.1.2.1" }]);
    const file = join(cacheDir, "results", "golden-ctr-1-eth0");
    expect(readFileSync(file, "utf8")).toBe(
      `{"kind":"cniCacheV1","containerId":"ctr-1","config":"${network.bytes.toString("base64")}","ifName":"eth0","networkName":"golden","netns":"/run/netns/ct",` +
        `"cniArgs":[["K8S_POD_NAME","web"],["IgnoreUnknown","1"]],` +
        `"capabilityArgs":{"bandwidth":{"ingressRate":1},"mac":"0a:58:00:00:00:01","portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]},` +
        `"result":${wireB}}`,
    );
  });

  it("passes a plugin's result on in the version the plugin wrote it in, as libcni does", async () => {
    plugin("old", { addResult: { cniVersion: "0.4.0", ips: [{ version: "4", address: "10.0.0.2/24" }] } });
    plugin("new");
    await runtime().addNetworkList(list({ cniVersion: "1.0.0", plugins: [{ type: "old" }, { type: "new" }] }), rt);
    expect(JSON.parse(calls()[1]!.stdin).prevResult).toEqual({ cniVersion: "0.4.0", dns: {}, ips: [{ address: "10.0.0.2/24", version: "4" }] });
  });

  it("takes a result without cniVersion to be in the list's version", async () => {
    plugin("quiet", { addResult: { ips: [{ version: "4", address: "10.0.0.2/24" }] } });
    const result = await runtime().addNetworkList(list({ cniVersion: "0.4.0", plugins: [{ type: "quiet" }] }), rt);
    expect(result.cniVersion).toBe("0.4.0");
    expect(result.wire).toEqual({ cniVersion: "0.4.0", ips: [{ version: "4", address: "10.0.0.2/24" }], dns: {} });
  });

  it("stops at the first plugin error, carrying its code, msg and details, and caches nothing", async () => {
    plugin("first", { addResult: resultA });
    plugin("second", { failOn: { commands: ["ADD"], error: { cniVersion: "1.1.0", code: 11, msg: "busy", details: "try later" } } });
    plugin("third");
    const failure = runtime().addNetworkList(list({ cniVersion: "1.1.0", plugins: [{ type: "first" }, { type: "second" }, { type: "third" }] }), rt);
    await expect(failure).rejects.toThrow(PluginError);
    await failure.catch((error: PluginError) => {
      expect(error).toMatchObject({ code: 11, msg: "busy", details: "try later", invocation: { plugin: "second", command: "ADD", network: "golden" } });
      expect(error.errorObject).toEqual({ cniVersion: "1.1.0", code: 11, msg: "busy", details: "try later" });
      expect(error.message).toBe('plugin "second" of network "golden" failed (ADD): busy (try later)');
    });
    expect(calls().map((call) => call.plugin)).toEqual(["first", "second"]);
    expect(existsSync(join(cacheDir, "results", "golden-ctr-1-eth0"))).toBe(false);
  });

  it("reports a plugin that exits non-zero without an error object, with its stderr", async () => {
    writeFileSync(join(work, "crash"), "#!/bin/bash\necho 'segfault-ish' >&2\nexit 3\n", { mode: 0o755 });
    const network = list({ cniVersion: "1.1.0", plugins: [{ type: "crash" }] });
    await expect(new CniRuntime({ path: [work], cacheDir, stderr: null }).addNetworkList(network, rt)).rejects.toThrow(
      new PluginExecError({ plugin: "crash", command: "ADD", network: "golden" }, 'exited with status 3 without an error object on stdout; stderr: "segfault-ish"'),
    );
  });

  it("reports a successful plugin whose output is not a result", async () => {
    plugin("chatty", { addResult: "hello" });
    await expect(runtime().addNetworkList(list({ cniVersion: "1.1.0", plugins: [{ type: "chatty" }] }), rt)).rejects.toThrow(
      /plugin "chatty" of network "golden" failed \(ADD\): succeeded but printed something that is not a JSON result/,
    );
  });

  it("passes the plugin's stderr through", async () => {
    plugin("noisy", { stderr: "diagnostics from noisy" });
    const stderr = new PassThrough();
    let seen = "";
    stderr.on("data", (chunk: Buffer) => (seen += chunk.toString()));
    await runtime(stderr).addNetworkList(list({ cniVersion: "1.1.0", plugins: [{ type: "noisy" }] }), rt);
    expect(seen).toBe("diagnostics from noisy\n");
  });

  it("finds plugins only in the plugin path and says where it looked", async () => {
    await expect(runtime().addNetworkList(list({ cniVersion: "1.1.0", plugins: [{ type: "absent" }] }), rt)).rejects.toThrow(
      `plugin "absent" of network "golden" failed (ADD): plugin executable "absent" not found in ${join(work, "empty")}:${pluginDir}`,
    );
  });

  it("never runs a type that names a path, even in a list built by hand", async () => {
    const network = list({ cniVersion: "1.1.0", plugins: [{ type: "x" }] });
    network.plugins[0] = { ...network.plugins[0]!, type: `${pluginDir}/x` };
    await expect(runtime().addNetworkList(network, rt)).rejects.toThrow(/must be a plugin name, not a path/);
  });

  it.each([
    [{ containerId: "" }, 3, "missing container ID"],
    [{ containerId: "bad id" }, 4, "CNI_CONTAINERID"],
    [{ ifName: "this-name-is-too-long" }, 4, "longer than 15 bytes"],
  ])("refuses an invalid attachment %j before running anything", async (override, code, text) => {
    plugin("x");
    const failure = runtime().addNetworkList(list({ cniVersion: "1.1.0", plugins: [{ type: "x" }] }), { ...rt, ...override });
    await expect(failure).rejects.toMatchObject({ code });
    await expect(failure).rejects.toThrow(text);
    expect(existsSync(recordDir) ? calls() : []).toEqual([]);
  });
});

describe("DEL", () => {
  it("runs the plugins in reverse order, each with the cached result as prevResult, and removes the cache entry", async () => {
    const network = setUpChain();
    const cni = runtime();
    await cni.addNetworkList(network, rt);
    rmSync(recordDir, { recursive: true });
    mkdirSync(recordDir);
    await cni.delNetworkList(network, rt);
    expect(calls()).toEqual([
      {
        plugin: "third",
        command: "DEL",
        stdin: `{"alpha":[3,1,2],"cniVersion":"1.1.0","name":"golden","prevResult":${wireB},"runtimeConfig":{"static":2},"type":"third","zeta":true}`,
      },
      {
        plugin: "second",
        command: "DEL",
        stdin: `{"capabilities":{"mac":true},"cniVersion":"1.1.0","name":"golden","prevResult":${wireB},"runtimeConfig":{"mac":"0a:58:00:00:00:01"},"type":"second"}`,
      },
      {
        plugin: "first",
        command: "DEL",
        stdin: `{"bridge":"cni0","capabilities":{"mac":false,"portMappings":true},"cniVersion":"1.1.0","ipam":{"subnet":"10.1.2.0/24","type":"host-local"},"name":"golden","prevResult":${wireB},"runtimeConfig":{"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]},"type":"first"}`,
      },
    ]);
    expect(readCalls(recordDir).map((call) => call.cniEnv.CNI_COMMAND)).toEqual(["DEL", "DEL", "DEL"]);
    expect(existsSync(join(cacheDir, "results", "golden-ctr-1-eth0"))).toBe(false);
  });

  it("converts the cached result to the list's version", async () => {
    plugin("x", { addResult: resultA });
    const cni = runtime();
    await cni.addNetworkList(list({ cniVersion: "1.1.0", plugins: [{ type: "x" }] }), rt);
    await cni.delNetworkList(list({ cniVersion: "0.4.0", plugins: [{ type: "x" }] }), rt);
    expect(JSON.parse(calls()[1]!.stdin).prevResult).toEqual({
      cniVersion: "0.4.0",
      dns: {},
      interfaces: [{ mac: "0a:00:00:00:00:01", name: "eth0", sandbox: "/run/netns/ct" }],
      ips: [{ address: "10.1.2.3/24", gateway: "10.1.2.1", interface: 0, version: "4" }],
    });
  });

  it("sends no prevResult for lists older than 0.4.0, as libcni", async () => {
    plugin("x", { addResult: { cniVersion: "0.3.1", ips: [{ version: "4", address: "10.0.0.2/24" }] } });
    const network = list({ cniVersion: "0.3.1", plugins: [{ type: "x" }] });
    const cni = runtime();
    await cni.addNetworkList(network, rt);
    await cni.delNetworkList(network, rt);
    expect(calls()[1]!.stdin).toBe('{"cniVersion":"0.3.1","name":"golden","type":"x"}');
  });

  it("sends no prevResult when nothing is cached", async () => {
    plugin("x");
    await runtime().delNetworkList(list({ cniVersion: "1.1.0", plugins: [{ type: "x" }] }), { containerId: "c", netns: "", ifName: "eth0" });
    expect(calls()).toEqual([{ plugin: "x", command: "DEL", stdin: '{"cniVersion":"1.1.0","name":"golden","type":"x"}' }]);
    expect(readCalls(recordDir)[0]!.cniEnv.CNI_NETNS).toBe("");
  });

  it("drops an unreadable cache entry and deletes without prevResult", async () => {
    plugin("x");
    const file = join(cacheDir, "results", "golden-ctr-1-eth0");
    mkdirSync(join(cacheDir, "results"), { recursive: true });
    writeFileSync(file, "{not json");
    await runtime().delNetworkList(list({ cniVersion: "1.1.0", plugins: [{ type: "x" }] }), rt);
    expect(JSON.parse(calls()[0]!.stdin).prevResult).toBeUndefined();
    expect(existsSync(file)).toBe(false);
  });

  it("keeps the cache entry when a plugin fails, so DEL can be retried", async () => {
    plugin("x", { failOn: { commands: ["DEL"], error: { code: 5, msg: "io" } } });
    const network = list({ cniVersion: "1.1.0", plugins: [{ type: "x" }] });
    const cni = runtime();
    await cni.addNetworkList(network, rt);
    await expect(cni.delNetworkList(network, rt)).rejects.toMatchObject({ code: 5, msg: "io" });
    expect(existsSync(join(cacheDir, "results", "golden-ctr-1-eth0"))).toBe(true);
  });
});

describe("CHECK", () => {
  it("runs the plugins in order with the cached result as prevResult", async () => {
    const network = setUpChain();
    const cni = runtime();
    await cni.addNetworkList(network, rt);
    await cni.checkNetworkList(network, rt);
    const checks = calls().filter((call) => call.command === "CHECK");
    expect(checks.map((call) => call.plugin)).toEqual(["first", "second", "third"]);
    expect(checks[1]!.stdin).toBe(
      `{"capabilities":{"mac":true},"cniVersion":"1.1.0","name":"golden","prevResult":${wireB},"runtimeConfig":{"mac":"0a:58:00:00:00:01"},"type":"second"}`,
    );
  });

  it("calls nothing when the list sets disableCheck", async () => {
    plugin("x");
    await runtime().checkNetworkList(list({ cniVersion: "1.1.0", disableCheck: true, plugins: [{ type: "x" }] }), rt);
    expect(existsSync(recordDir) ? calls() : []).toEqual([]);
  });

  it("refuses lists older than 0.4.0 with code 1", async () => {
    await expect(runtime().checkNetworkList(list({ cniVersion: "0.3.1", plugins: [{ type: "x" }] }), rt)).rejects.toMatchObject({
      code: 1,
      message: expect.stringContaining('configuration version "0.3.1" does not support the CHECK command'),
    });
  });
});

describe("GC", () => {
  const gcList = { cniVersion: "1.1.0", plugins: [{ type: "first", capabilities: { mac: true } }, { type: "second" }] };

  it("sends every plugin the valid attachments (also under the older key) with empty attachment variables", async () => {
    plugin("first");
    plugin("second");
    await runtime().gcNetworkList(list(gcList), { validAttachments: [{ containerID: "keep", ifname: "eth0" }] });
    const attachments = '[{"containerID":"keep","ifname":"eth0"}]';
    expect(calls()).toEqual([
      {
        plugin: "first",
        command: "GC",
        stdin: `{"capabilities":{"mac":true},"cni.dev/attachments":${attachments},"cni.dev/valid-attachments":${attachments},"cniVersion":"1.1.0","name":"golden","type":"first"}`,
      },
      {
        plugin: "second",
        command: "GC",
        stdin: `{"cni.dev/attachments":${attachments},"cni.dev/valid-attachments":${attachments},"cniVersion":"1.1.0","name":"golden","type":"second"}`,
      },
    ]);
    expect(readCalls(recordDir)[0]!.cniEnv).toEqual({
      CNI_COMMAND: "GC",
      CNI_CONTAINERID: "",
      CNI_NETNS: "",
      CNI_IFNAME: "",
      CNI_ARGS: "",
      CNI_PATH: `${join(work, "empty")}:${pluginDir}`,
    });
  });

  it("deletes cached attachments of the network that are not valid, with their cached parameters, and keeps the valid ones", async () => {
    plugin("first", { addResult: resultA });
    plugin("second", { addResult: resultB });
    const network = list(gcList);
    const cni = runtime();
    await cni.addNetworkList(network, { containerId: "keep", netns: "/run/netns/a", ifName: "eth0" });
    await cni.addNetworkList(network, { containerId: "stale", netns: "/run/netns/b", ifName: "eth1", args: [["A", "1"]], capabilityArgs: { mac: "0a:00:00:00:00:09" } });
    rmSync(recordDir, { recursive: true });
    mkdirSync(recordDir);
    await cni.gcNetworkList(network, { validAttachments: [{ containerID: "keep", ifname: "eth0" }] });
    const recorded = readCalls(recordDir);
    expect(recorded.map((call) => `${call.plugin} ${call.command}`)).toEqual(["second DEL", "first DEL", "first GC", "second GC"]);
    expect(recorded[1]!.cniEnv).toMatchObject({ CNI_CONTAINERID: "stale", CNI_NETNS: "/run/netns/b", CNI_IFNAME: "eth1", CNI_ARGS: "A=1" });
    expect(JSON.parse(recorded[1]!.stdin)).toMatchObject({ runtimeConfig: { mac: "0a:00:00:00:00:09" }, prevResult: JSON.parse(wireB) });
    expect((await cni.getCachedAttachments()).map((attachment) => attachment.containerId)).toEqual(["keep"]);
  });

  it("collects the errors of all plugins instead of stopping at the first", async () => {
    plugin("first", { failOn: { commands: ["GC"], error: { code: 100, msg: "first broke" } } });
    plugin("second", { failOn: { commands: ["GC"], error: { code: 101, msg: "second broke" } } });
    plugin("third");
    const network = list({ cniVersion: "1.1.0", plugins: [{ type: "first" }, { type: "second" }, { type: "third" }] });
    const failure = runtime().gcNetworkList(network, { validAttachments: [] });
    await expect(failure).rejects.toThrow(AggregateError);
    await failure.catch((error: AggregateError) => {
      expect(error.errors.map((each: PluginError) => [each.invocation.plugin, each.code])).toEqual([
        ["first", 100],
        ["second", 101],
      ]);
    });
    expect(calls().map((call) => call.plugin)).toEqual(["first", "second", "third"]);
  });

  it("does nothing when the list sets disableGC", async () => {
    plugin("x");
    const cni = runtime();
    const network = list({ cniVersion: "1.1.0", plugins: [{ type: "x" }] });
    await cni.addNetworkList(network, rt);
    await cni.gcNetworkList(list({ cniVersion: "1.1.0", disableGC: true, plugins: [{ type: "x" }] }), { validAttachments: [] });
    expect(calls().map((call) => call.command)).toEqual(["ADD"]);
  });

  it("only deletes stale attachments for lists older than 1.1.0 (GC does not exist there)", async () => {
    plugin("x", { addResult: { cniVersion: "1.0.0", ips: [{ address: "10.0.0.2/24" }] } });
    const network = list({ cniVersion: "1.0.0", plugins: [{ type: "x" }] });
    const cni = runtime();
    await cni.addNetworkList(network, rt);
    await cni.gcNetworkList(network, { validAttachments: [] });
    expect(calls().map((call) => call.command)).toEqual(["ADD", "DEL"]);
  });
});

describe("STATUS", () => {
  it("asks every plugin in order with only its keys, the name and the version", async () => {
    plugin("first");
    plugin("second");
    await runtime().getStatusNetworkList(list({ cniVersion: "1.1.0", plugins: [{ type: "first", capabilities: { mac: true } }, { type: "second", mtu: 1400 }] }));
    expect(calls()).toEqual([
      { plugin: "first", command: "STATUS", stdin: '{"capabilities":{"mac":true},"cniVersion":"1.1.0","name":"golden","type":"first"}' },
      { plugin: "second", command: "STATUS", stdin: '{"cniVersion":"1.1.0","mtu":1400,"name":"golden","type":"second"}' },
    ]);
    expect(readCalls(recordDir)[1]!.cniEnv).toMatchObject({ CNI_COMMAND: "STATUS", CNI_CONTAINERID: "", CNI_IFNAME: "" });
  });

  it("stops at the first plugin that is not ready", async () => {
    plugin("first", { failOn: { commands: ["STATUS"], error: { code: 50, msg: "not available" } } });
    plugin("second");
    await expect(runtime().getStatusNetworkList(list({ cniVersion: "1.1.0", plugins: [{ type: "first" }, { type: "second" }] }))).rejects.toMatchObject({
      code: 50,
    });
    expect(calls().map((call) => call.plugin)).toEqual(["first"]);
  });

  it("succeeds without asking for lists older than 1.1.0", async () => {
    plugin("x");
    await runtime().getStatusNetworkList(list({ cniVersion: "1.0.0", plugins: [{ type: "x" }] }));
    expect(existsSync(recordDir) ? calls() : []).toEqual([]);
  });
});

describe("the cache API", () => {
  it("returns the cached result and configuration, with the arguments of the ADD", async () => {
    const network = setUpChain();
    const cni = runtime();
    await cni.addNetworkList(network, rt);
    const cached = await cni.getNetworkListCachedResult(network, { containerId: "ctr-1", netns: "", ifName: "eth0" });
    expect(cached?.wire).toEqual(JSON.parse(wireB));
    const config = await cni.getNetworkListCachedConfig(network, { containerId: "ctr-1", netns: "/x", ifName: "eth0" });
    expect(config?.config.equals(network.bytes)).toBe(true);
    expect(config?.runtimeConf).toEqual({ containerId: "ctr-1", netns: "/x", ifName: "eth0", args: rt.args, capabilityArgs: rt.capabilityArgs });
  });

  it("returns undefined when nothing is cached", async () => {
    const network = list({ cniVersion: "1.1.0", plugins: [{ type: "x" }] });
    expect(await runtime().getNetworkListCachedResult(network, rt)).toBeUndefined();
    expect(await runtime().getNetworkListCachedConfig(network, rt)).toBeUndefined();
  });

  it("reads a legacy cache file that holds only a result", async () => {
    mkdirSync(join(cacheDir, "results"), { recursive: true });
    writeFileSync(join(cacheDir, "results", "golden-ctr-1-eth0"), JSON.stringify({ cniVersion: "0.4.0", ips: [{ version: "4", address: "10.9.0.2/16" }] }));
    const cached = await runtime().getNetworkListCachedResult(list({ cniVersion: "1.0.0", plugins: [{ type: "x" }] }), rt);
    expect(cached?.wire).toEqual({ cniVersion: "1.0.0", ips: [{ address: "10.9.0.2/16" }], dns: {} });
  });

  it("lists cached attachments, optionally of one container", async () => {
    plugin("x");
    const network = list({ cniVersion: "1.1.0", plugins: [{ type: "x" }] });
    const cni = runtime();
    await cni.addNetworkList(network, { containerId: "a", netns: "/run/netns/a", ifName: "eth0" });
    await cni.addNetworkList(network, { containerId: "b", netns: "/run/netns/b", ifName: "eth0" });
    expect((await cni.getCachedAttachments()).map((attachment) => attachment.containerId)).toEqual(["a", "b"]);
    expect(await cni.getCachedAttachments("b")).toEqual([
      { containerId: "b", network: "golden", ifName: "eth0", config: network.bytes, netns: "/run/netns/b", cniArgs: [], capabilityArgs: {} },
    ]);
  });
});

describe("VERSION and validation", () => {
  it("reads a plugin's supported versions", async () => {
    plugin("x", { supportedVersions: ["0.4.0", "1.0.0"] });
    expect(await runtime().getVersionInfo("x")).toEqual({ cniVersion: "1.1.0", supportedVersions: ["0.4.0", "1.0.0"] });
    expect(readCalls(recordDir)[0]!.cniEnv).toEqual({
      CNI_COMMAND: "VERSION",
      CNI_CONTAINERID: "",
      CNI_NETNS: "dummy",
      CNI_IFNAME: "dummy",
      CNI_ARGS: "",
      CNI_PATH: "dummy",
    });
  });

  it("takes a plugin too old to know VERSION to speak 0.1.0, as libcni does", async () => {
    plugin("ancient", { failOn: { commands: ["VERSION"], error: { code: 4, msg: "unknown CNI_COMMAND: VERSION" } } });
    expect(await runtime().getVersionInfo("ancient")).toEqual({ cniVersion: "0.1.0", supportedVersions: ["0.1.0"] });
  });

  it("reads a 0.2.0 answer without supportedVersions as 0.1.0 and 0.2.0, and rejects other answers without it", async () => {
    writeFileSync(join(work, "old"), `#!/bin/bash\necho '{"cniVersion":"0.2.0"}'\n`, { mode: 0o755 });
    writeFileSync(join(work, "odd"), `#!/bin/bash\necho '{"cniVersion":"0.3.0"}'\n`, { mode: 0o755 });
    const cni = new CniRuntime({ path: [work], cacheDir, stderr: null });
    expect(await cni.getVersionInfo("old")).toEqual({ cniVersion: "0.2.0", supportedVersions: ["0.1.0", "0.2.0"] });
    await expect(cni.getVersionInfo("odd")).rejects.toThrow('plugin "odd" failed (VERSION): the VERSION answer has no supportedVersions');
  });

  it("validates that every plugin supports the list's version and returns the declared capabilities", async () => {
    plugin("new", { supportedVersions: ["1.0.0", "1.1.0"] });
    plugin("old", { supportedVersions: ["0.3.1", "0.4.0"] });
    const cni = runtime();
    expect(await cni.validateNetworkList(list({ cniVersion: "1.1.0", plugins: [{ type: "new", capabilities: { mac: true, ips: true } }] }))).toEqual([
      "ips",
      "mac",
    ]);
    await expect(cni.validateNetworkList(list({ cniVersion: "1.1.0", plugins: [{ type: "new" }, { type: "old" }, { type: "gone" }] }))).rejects.toThrow(
      /plugin "old" does not support config version "1.1.0".*plugin executable "gone" not found/,
    );
  });
});
