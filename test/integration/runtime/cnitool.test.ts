import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createNetns, deleteLinkIfExists, ipJson, linkExists, type TestNetns } from "../../helpers/netns.ts";
import { OUR_BIN, REFERENCE_BIN } from "../../helpers/paths.ts";
import { randomSubnets, uniqueName } from "../../helpers/tag.ts";
import { createFakePlugin, readCalls } from "../../unit/runtime/fake-plugin.ts";

/**
 * Our compiled cnitool end to end, in real network namespaces, driving real plugins.
 * The plugin directories under test: add ["ours", OUR_BIN] once our bridge, host-local,
 * loopback and tuning exist.
 */
const PLUGIN_DIRS: [string, string][] = [
  ["reference", REFERENCE_BIN],
  ["our", OUR_BIN],
];

const CNITOOL = join(OUR_BIN, "cnitool");
/** cnitool, like upstream's, always caches here; tests remove the files of their networks. */
const CACHE_RESULTS = "/var/lib/cni/results";

interface Outcome {
  status: number;
  stdout: string;
  stderr: string;
}

describe.each(PLUGIN_DIRS)("cnitool with the %s plugins", (_label, pluginDir) => {
  let work: string;
  let fakeDir: string;
  let network: string;
  let bridge: string;
  let subnet: { v4: string; v4Prefix: string };
  const namespaces: TestNetns[] = [];

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "cnitool-e2e-"));
    fakeDir = join(work, "fake-bin");
    mkdirSync(join(work, "net.d"));
    network = uniqueName("rtnet");
    bridge = uniqueName("rtbr");
    subnet = randomSubnets();
  });

  afterEach(() => {
    for (const ns of namespaces.splice(0)) ns.remove();
    deleteLinkIfExists(bridge);
    if (existsSync(CACHE_RESULTS)) {
      for (const file of readdirSync(CACHE_RESULTS)) if (file.startsWith(`${network}-`)) rmSync(join(CACHE_RESULTS, file));
    }
    rmSync(work, { recursive: true, force: true });
  });

  function netns(): TestNetns {
    const ns = createNetns("rtns");
    namespaces.push(ns);
    return ns;
  }

  function cnitool(args: string[], env: Record<string, string> = {}): Outcome {
    const run = spawnSync(CNITOOL, args, {
      env: { PATH: process.env.PATH, NETCONFPATH: join(work, "net.d"), CNI_PATH: `${pluginDir}:${fakeDir}`, ...env },
      encoding: "utf8",
      timeout: 60_000,
    });
    if (run.error) throw run.error;
    return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
  }

  function mustSucceed(args: string[], env: Record<string, string> = {}): string {
    const outcome = cnitool(args, env);
    if (outcome.status !== 0) throw new Error(`cnitool ${args.join(" ")} exited ${outcome.status}: ${outcome.stdout}${outcome.stderr}`);
    return outcome.stdout;
  }

  function bridgePlugin(extraIpam: object = {}): object {
    return {
      type: "bridge",
      bridge,
      isGateway: true,
      ipam: { type: "host-local", subnet: subnet.v4, dataDir: join(work, "ipam"), routes: [{ dst: "0.0.0.0/0" }], ...extraIpam },
    };
  }

  function conflist(plugins: object[], cniVersion = "1.0.0"): void {
    writeFileSync(join(work, "net.d", `10-${network}.conflist`), JSON.stringify({ cniVersion, name: network, plugins }));
  }

  /** The container ID upstream cnitool derives, computed here independently of our code. */
  function cacheFile(ns: TestNetns): string {
    const containerId = `cnitool-${createHash("sha512").update(ns.path).digest("hex").slice(0, 20)}`;
    return join(CACHE_RESULTS, `${network}-${containerId}-eth0`);
  }

  function addresses(ns: TestNetns, ifName: string): string[] {
    const [link] = ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>(["addr", "show", "dev", ifName], ns.name);
    return link!.addr_info.map((info) => `${info.local}/${info.prefixlen}`);
  }

  function leases(): string[] {
    const dir = join(work, "ipam", network);
    return existsSync(dir) ? readdirSync(dir).filter((name) => name.startsWith(subnet.v4Prefix)) : [];
  }

  it("adds through bridge and host-local, checks, and deletes, leaving no interface, lease or cache entry", () => {
    conflist([bridgePlugin()]);
    const ns = netns();
    const result = JSON.parse(mustSucceed(["add", network, ns.path])) as { ips: { address: string }[] };
    const address = result.ips[0]!.address;
    expect(address.startsWith(`${subnet.v4Prefix}.`)).toBe(true);
    expect(addresses(ns, "eth0")).toContain(address);
    expect(existsSync(cacheFile(ns))).toBe(true);
    expect(leases()).toEqual([address.split("/")[0]]);

    expect(cnitool(["check", network, ns.path])).toEqual({ status: 0, stdout: "", stderr: "" });

    mustSucceed(["del", network, ns.path]);
    expect(linkExists("eth0", ns.name)).toBe(false);
    expect(leases()).toEqual([]);
    expect(existsSync(cacheFile(ns))).toBe(false);
  });

  it("reports CHECK's failure as the plugin's error object when the interface vanished", () => {
    conflist([bridgePlugin()]);
    const ns = netns();
    mustSucceed(["add", network, ns.path]);
    ns.exec(["ip", "link", "delete", "eth0"]);
    const outcome = cnitool(["check", network, ns.path]);
    expect(outcome.status).toBe(1);
    const error = JSON.parse(outcome.stdout) as { code: number; msg: string };
    expect(error.code).toBeGreaterThan(0);
    expect(outcome.stderr).toContain(`plugin "bridge" of network "${network}" failed (CHECK): ${error.msg}`);
    mustSucceed(["del", network, ns.path]);
  });

  it("brings up the loopback interface with the loopback plugin", () => {
    conflist([{ type: "loopback" }]);
    const ns = netns();
    mustSucceed(["add", network, ns.path]);
    const [lo] = ipJson<{ flags: string[] }[]>(["link", "show", "dev", "lo"], ns.name);
    expect(lo!.flags).toContain("UP");
    mustSucceed(["del", network, ns.path]);
  });

  it("hands CAP_ARGS mac to tuning, which sets the MAC in the namespace", () => {
    conflist([bridgePlugin(), { type: "tuning", capabilities: { mac: true } }]);
    const ns = netns();
    const mac = "0a:58:0a:0b:0c:0d";
    const result = JSON.parse(mustSucceed(["add", network, ns.path], { CAP_ARGS: JSON.stringify({ mac }) })) as {
      interfaces: { name: string; mac: string; sandbox?: string }[];
    };
    const [eth0] = ipJson<{ address: string }[]>(["link", "show", "dev", "eth0"], ns.name);
    expect(eth0!.address).toBe(mac);
    expect(result.interfaces.find((intf) => intf.sandbox)?.mac).toBe(mac);
    mustSucceed(["del", network, ns.path], { CAP_ARGS: JSON.stringify({ mac }) });
  });

  it("hands CAP_ARGS portMappings only to the plugin that declares the capability, with the chain's result", () => {
    createFakePlugin(fakeDir, join(work, "record"), "recorder");
    createFakePlugin(fakeDir, join(work, "record"), "bystander");
    conflist([bridgePlugin(), { type: "recorder", capabilities: { portMappings: true } }, { type: "bystander" }]);
    const ns = netns();
    const portMappings = [{ hostPort: 18080, containerPort: 80, protocol: "tcp" }];
    mustSucceed(["add", network, ns.path], { CAP_ARGS: JSON.stringify({ portMappings, bandwidth: { ingressRate: 1000 } }) });
    const [recorder, bystander] = readCalls(join(work, "record")).map((call) => JSON.parse(call.stdin));
    expect(recorder.runtimeConfig).toEqual({ portMappings });
    expect(recorder.prevResult.ips[0].address.startsWith(`${subnet.v4Prefix}.`)).toBe(true);
    expect(bystander.runtimeConfig).toBeUndefined();
    mustSucceed(["del", network, ns.path]);
  });

  it("gc deletes every attachment of the network that cnitool cached", () => {
    conflist([bridgePlugin()]);
    const [one, two] = [netns(), netns()];
    mustSucceed(["add", network, one.path]);
    mustSucceed(["add", network, two.path]);
    expect(leases()).toHaveLength(2);
    mustSucceed(["gc", network]);
    expect(linkExists("eth0", one.name)).toBe(false);
    expect(linkExists("eth0", two.name)).toBe(false);
    expect(leases()).toEqual([]);
    expect(existsSync(cacheFile(one)) || existsSync(cacheFile(two))).toBe(false);
  });

  it("status succeeds without asking plugins of a 1.0.0 list (STATUS exists from 1.1.0)", () => {
    createFakePlugin(fakeDir, join(work, "record"), "recorder");
    conflist([bridgePlugin(), { type: "recorder" }]);
    expect(cnitool(["status", network])).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(existsSync(join(work, "record")) ? readCalls(join(work, "record")) : []).toEqual([]);
  });

  it("status and gc reach every plugin of a 1.1.0 list", () => {
    createFakePlugin(fakeDir, join(work, "record"), "first");
    createFakePlugin(fakeDir, join(work, "record"), "second");
    conflist([{ type: "first" }, { type: "second" }], "1.1.0");
    mustSucceed(["status", network]);
    mustSucceed(["gc", network]);
    expect(readCalls(join(work, "record")).map((call) => `${call.plugin} ${call.command}`)).toEqual([
      "first STATUS",
      "second STATUS",
      "first GC",
      "second GC",
    ]);
  });

  it("prints a plugin's error object and exits 1 when ADD fails, caching nothing", () => {
    conflist([bridgePlugin({ subnet: "10.0.0.0/33" })]);
    const ns = netns();
    const outcome = cnitool(["add", network, ns.path]);
    expect(outcome.status).toBe(1);
    const error = JSON.parse(outcome.stdout) as { code: number; msg: string };
    expect(error.msg).toContain("10.0.0.0/33");
    expect(outcome.stderr).toContain(`failed (ADD): ${error.msg}`);
    expect(existsSync(cacheFile(ns))).toBe(false);
  });
});
