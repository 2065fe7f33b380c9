import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CniRuntime, loadNetworkList, type NetworkConfigList, type RuntimeConf } from "../../../lib/runtime/index.ts";
import { OUR_BIN } from "../../helpers/paths.ts";
import { uniqueName } from "../../helpers/tag.ts";
import { createFakePlugin, readCalls, type RecordedCall } from "../../unit/runtime/fake-plugin.ts";

/**
 * Interoperability with the real libcni (Debian's golang-github-appc-cni-dev, libcni 1.1.2,
 * spec up to 1.0.0): a small Go program of ours (test/interop/libcni-helper) adds and deletes
 * through libcni, and the tests hand attachments back and forth through the shared cache.
 */
const GOPATH = "/usr/share/gocode";
const LIBCNI_SOURCE = join(GOPATH, "src/github.com/containernetworking/cni/libcni");
const HELPER_SOURCE = resolve("test/interop/libcni-helper");
const DEFAULT_CACHE_RESULTS = "/var/lib/cni/results";

function missingToolchain(): string | undefined {
  if (spawnSync("go", ["version"]).status !== 0) return "the go command is missing (apt-get install golang-go)";
  if (!existsSync(LIBCNI_SOURCE)) return `libcni's source is missing at ${LIBCNI_SOURCE} (apt-get install golang-github-appc-cni-dev)`;
  return undefined;
}

const missing = missingToolchain();
if (missing) console.warn(`libcni interop tests skipped: ${missing}`);

describe.skipIf(missing !== undefined)("cache interoperability with libcni", () => {
  let buildDir: string;
  let helper: string;
  let work: string;
  let network: string;
  let confDir: string;
  let pluginDir: string;
  let recordDir: string;
  let cacheDir: string;

  beforeAll(() => {
    buildDir = mkdtempSync(join(tmpdir(), "libcni-helper-"));
    helper = join(buildDir, "libcni-helper");
    execFileSync("go", ["build", "-o", helper, "."], {
      cwd: HELPER_SOURCE,
      env: { ...process.env, GO111MODULE: "off", GOPATH, GOCACHE: join(buildDir, "gocache"), GOFLAGS: "" },
      stdio: ["ignore", "inherit", "inherit"],
    });
  });
  afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "libcni-interop-"));
    network = uniqueName("lcni");
    confDir = join(work, "net.d");
    pluginDir = join(work, "bin");
    recordDir = join(work, "record");
    cacheDir = join(work, "cache");
    mkdirSync(confDir);
  });
  afterEach(() => {
    rmSync(work, { recursive: true, force: true });
    if (existsSync(DEFAULT_CACHE_RESULTS)) {
      for (const file of readdirSync(DEFAULT_CACHE_RESULTS)) if (file.startsWith(`${network}-`)) rmSync(join(DEFAULT_CACHE_RESULTS, file));
    }
  });

  const resultA = { cniVersion: "1.0.0", interfaces: [{ name: "eth0", mac: "0a:00:00:00:00:0a", sandbox: "/run/netns/x" }], ips: [{ address: "10.44.0.2/24", gateway: "10.44.0.1", interface: 0 }], dns: {} };
  const resultB = { ...resultA, routes: [{ dst: "0.0.0.0/0", gw: "10.44.0.1" }], dns: { nameservers: ["10.44.0.1"] } };

  function setUp(): NetworkConfigList {
    createFakePlugin(pluginDir, recordDir, "first", { addResult: resultA });
    createFakePlugin(pluginDir, recordDir, "second", { addResult: resultB });
    writeFileSync(
      join(confDir, `10-${network}.conflist`),
      JSON.stringify({
        cniVersion: "1.0.0",
        name: network,
        plugins: [
          { type: "first", description: "ports <80> & <443>", capabilities: { portMappings: true, mac: true }, ipam: { type: "host-local", ranges: [[{ subnet: "10.44.0.0/24" }]] } },
          { type: "second", capabilities: { bandwidth: true }, mtu: 1400 },
        ],
      }),
    );
    return loadNetworkList(confDir, network);
  }

  const capabilityArgs = { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }], mac: "0a:00:00:00:00:0b", ips: ["10.44.0.9/24"] };
  const rt: RuntimeConf = { containerId: "interop-1", netns: "/run/netns/x", ifName: "eth0", args: [["IgnoreUnknown", "1"]], capabilityArgs };

  /** Runs the helper; `cache` "" means libcni's default cache directory. */
  function libcni(command: string, attachment: RuntimeConf = rt, cache = cacheDir): string {
    const run = spawnSync(helper, [command, confDir, network, attachment.containerId, attachment.netns, attachment.ifName], {
      env: {
        PATH: process.env.PATH,
        CNI_PATH: pluginDir,
        HELPER_CACHE_DIR: cache,
        CNI_ARGS: (attachment.args ?? []).map((pair) => pair.join("=")).join(";"),
        CAP_ARGS: JSON.stringify(attachment.capabilityArgs ?? {}),
      },
      encoding: "utf8",
    });
    if (run.status !== 0) throw new Error(`libcni-helper ${command} failed: ${run.stderr}`);
    return run.stdout;
  }

  function ours(): CniRuntime {
    return new CniRuntime({ path: [pluginDir], cacheDir, stderr: null });
  }

  function recorded(command: string): RecordedCall[] {
    return readCalls(recordDir).filter((call) => call.command === command);
  }

  function resetRecords(): void {
    rmSync(recordDir, { recursive: true, force: true });
    mkdirSync(recordDir);
  }

  it("sends each plugin the same request and environment as libcni", async () => {
    const list = setUp();
    libcni("add");
    const theirs = recorded("ADD");
    libcni("del");
    resetRecords();
    await ours().addNetworkList(list, rt);
    const mine = recorded("ADD");
    expect(mine.map((call) => call.cniEnv)).toEqual(theirs.map((call) => call.cniEnv));
    // Without prevResult libcni writes only maps, so the bytes match exactly.
    expect(mine[0]!.stdin).toBe(theirs[0]!.stdin);
    // libcni 1.1.2 writes prevResult in its struct's field order; we sort, as newer libcni does.
    expect(JSON.parse(mine[1]!.stdin)).toEqual(JSON.parse(theirs[1]!.stdin));
  });

  it("writes the cache entry libcni writes, byte for byte (plus netns, which newer libcni adds)", async () => {
    const list = setUp();
    libcni("add");
    const file = join(cacheDir, "results", `${network}-interop-1-eth0`);
    const theirs = readFileSync(file, "utf8");
    libcni("del");
    await ours().addNetworkList(list, rt);
    const mine = readFileSync(file, "utf8");
    expect(mine).toContain(',"networkName":"' + network + '","netns":"/run/netns/x",');
    expect(mine.replace(',"netns":"/run/netns/x"', "")).toBe(theirs);
  });

  it("deletes what libcni added, with libcni's cached result as prevResult, and removes libcni's cache entry", async () => {
    const list = setUp();
    const added = JSON.parse(libcni("add"));
    const cached = await ours().getNetworkListCachedResult(list, rt);
    expect(cached?.wire).toEqual(added);
    resetRecords();
    await ours().delNetworkList(list, rt);
    expect(recorded("DEL").map((call) => JSON.parse(call.stdin).prevResult)).toEqual([added, added]);
    expect(existsSync(join(cacheDir, "results", `${network}-interop-1-eth0`))).toBe(false);
    expect(libcni("cached-result").trim()).toBe("null");
  });

  it("lets libcni check and delete what we added, from our cache entry", async () => {
    const list = setUp();
    const added = await ours().addNetworkList(list, rt);
    expect(JSON.parse(libcni("cached-result"))).toEqual(added.wire);
    resetRecords();
    libcni("check");
    libcni("del");
    expect(recorded("CHECK").map((call) => JSON.parse(call.stdin).prevResult)).toEqual([added.wire, added.wire]);
    expect(recorded("DEL").map((call) => JSON.parse(call.stdin).prevResult)).toEqual([added.wire, added.wire]);
    expect(recorded("DEL").map((call) => call.plugin)).toEqual(["second", "first"]);
    expect(existsSync(join(cacheDir, "results", `${network}-interop-1-eth0`))).toBe(false);
  });

  describe("with upstream cnitool's container IDs", () => {
    const netnsPath = "/run/netns/interop-cnitool";
    /** Upstream cnitool's ID: "cnitool-" and the first 10 bytes of SHA-512 of the absolute netns path, in hex. */
    const containerId = `cnitool-${createHash("sha512").update(netnsPath).digest("hex").slice(0, 20)}`;
    const attachment: RuntimeConf = { containerId, netns: netnsPath, ifName: "eth0", args: [], capabilityArgs: {} };

    function cnitool(command: string): void {
      const run = spawnSync(join(OUR_BIN, "cnitool"), [command, network, netnsPath], {
        env: { PATH: process.env.PATH, NETCONFPATH: confDir, CNI_PATH: pluginDir },
        encoding: "utf8",
      });
      if (run.status !== 0) throw new Error(`cnitool ${command} exited ${run.status}: ${run.stdout}${run.stderr}`);
    }

    it("our cnitool deletes what libcni added under cnitool's container ID", () => {
      setUp();
      libcni("add", attachment, "");
      const file = join(DEFAULT_CACHE_RESULTS, `${network}-${containerId}-eth0`);
      expect(existsSync(file)).toBe(true);
      resetRecords();
      cnitool("del");
      expect(recorded("DEL").map((call) => call.cniEnv.CNI_CONTAINERID)).toEqual([containerId, containerId]);
      expect(JSON.parse(recorded("DEL")[0]!.stdin).prevResult).toEqual(resultB);
      expect(existsSync(file)).toBe(false);
    });

    it("libcni deletes what our cnitool added, finding the cache file by cnitool's container ID", () => {
      setUp();
      cnitool("add");
      const file = join(DEFAULT_CACHE_RESULTS, `${network}-${containerId}-eth0`);
      expect(existsSync(file)).toBe(true);
      resetRecords();
      libcni("del", attachment, "");
      expect(JSON.parse(recorded("DEL")[0]!.stdin).prevResult).toEqual(resultB);
      expect(existsSync(file)).toBe(false);
    });
  });
});
