import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ConfigError,
  loadNetworkDirectory,
  loadNetworkList,
  networkConfigListFromBytes,
  NetworkNotFoundError,
  type NetworkConfigList,
} from "../../../lib/runtime/index.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "runtime-config-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: object | string): string {
  const file = join(dir, name);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

function types(list: NetworkConfigList): string[] {
  return list.plugins.map((plugin) => plugin.type);
}

/** The single problem reported for the directory, as file/field/reason. */
function onlyProblem(): { file: string; field: string | undefined; reason: string } {
  const { problems } = loadNetworkDirectory(dir);
  expect(problems).toHaveLength(1);
  const [problem] = problems;
  expect(problem).toBeInstanceOf(ConfigError);
  return { file: problem!.file, field: problem!.field, reason: problem!.reason };
}

describe("loading a directory of network configurations", () => {
  it("loads a .conflist with its name, version, flags and plugins in order", () => {
    write("10-net.conflist", {
      cniVersion: "1.0.0",
      name: "net",
      disableCheck: true,
      disableGC: true,
      plugins: [{ type: "bridge" }, { type: "portmap", capabilities: { portMappings: true } }],
    });
    const list = loadNetworkList(dir, "net");
    expect(list).toMatchObject({ name: "net", cniVersion: "1.0.0", disableCheck: true, disableGC: true, loadOnlyInlinedPlugins: false });
    expect(types(list)).toEqual(["bridge", "portmap"]);
  });

  it("keeps the .conflist file's bytes as the list's bytes (they are cached as `config`)", () => {
    const text = '{ "name": "net", "cniVersion": "1.0.0", "plugins": [ {"type": "x"} ] }\n';
    write("net.conflist", text);
    expect(loadNetworkList(dir, "net").bytes.toString()).toBe(text);
  });

  it("wraps a single-plugin .conf as a list of one, with bytes as libcni writes the wrapper", () => {
    write("10-single.conf", { type: "ptp", name: "single", cniVersion: "0.4.0", ipMasq: true, disableCheck: true });
    const list = loadNetworkList(dir, "single");
    expect(types(list)).toEqual(["ptp"]);
    expect(list.cniVersion).toBe("0.4.0");
    // libcni's ConfListFromConf carries only name and cniVersion over: disableCheck is not a list flag here.
    expect(list.disableCheck).toBe(false);
    expect(list.bytes.toString()).toBe(
      '{"cniVersion":"0.4.0","name":"single","plugins":[{"cniVersion":"0.4.0","disableCheck":true,"ipMasq":true,"name":"single","type":"ptp"}]}',
    );
  });

  it("reads .json files as single-plugin configurations too", () => {
    write("20-other.json", { type: "macvlan", name: "other", cniVersion: "1.0.0" });
    expect(types(loadNetworkList(dir, "other"))).toEqual(["macvlan"]);
  });

  it("ignores files with other extensions and subdirectories", () => {
    write("net.conflist.bak", { name: "net", plugins: [{ type: "x" }] });
    write("README", "not a config");
    mkdirSync(join(dir, "sub.conflist"));
    const loaded = loadNetworkDirectory(dir);
    expect(loaded.networks).toEqual([]);
    expect(loaded.problems).toEqual([]);
  });

  it("lists networks in libcni's lookup order: .conflist by file name, then .conf and .json by file name", () => {
    write("30-c.conflist", { name: "c", cniVersion: "1.0.0", plugins: [{ type: "x" }] });
    write("10-a.json", { name: "a", type: "x" });
    write("20-b.conflist", { name: "b", cniVersion: "1.0.0", plugins: [{ type: "x" }] });
    write("05-d.conf", { name: "d", type: "x" });
    expect(loadNetworkDirectory(dir).networks.map((list) => list.name)).toEqual(["b", "c", "d", "a"]);
  });

  it("prefers a .conflist over a .conf of the same name even when the .conf sorts first, and reports the .conf", () => {
    write("00-net.conf", { name: "net", type: "from-conf" });
    write("99-net.conflist", { name: "net", cniVersion: "1.0.0", plugins: [{ type: "from-conflist" }] });
    expect(types(loadNetworkList(dir, "net"))).toEqual(["from-conflist"]);
    expect(onlyProblem()).toEqual({
      file: join(dir, "00-net.conf"),
      field: "name",
      reason: `network "net" is already defined in ${join(dir, "99-net.conflist")}; this file is ignored`,
    });
  });

  it("reports a duplicate network name across files with the later file's name and keeps the first", () => {
    write("10-first.conflist", { name: "dup", cniVersion: "1.0.0", plugins: [{ type: "first" }] });
    write("20-second.conflist", { name: "dup", cniVersion: "1.0.0", plugins: [{ type: "second" }] });
    expect(types(loadNetworkList(dir, "dup"))).toEqual(["first"]);
    const problem = onlyProblem();
    expect(problem.file).toBe(join(dir, "20-second.conflist"));
    expect(problem.field).toBe("name");
    expect(problem.reason).toContain("10-first.conflist");
  });

  it("reports a file that is not valid JSON with its name and keeps loading the others", () => {
    write("10-broken.conflist", '{"name": "broken", "plugins": [');
    write("20-good.conflist", { name: "good", cniVersion: "1.0.0", plugins: [{ type: "x" }] });
    const problem = onlyProblem();
    expect(problem.file).toBe(join(dir, "10-broken.conflist"));
    expect(problem.field).toBeUndefined();
    expect(problem.reason).toMatch(/^invalid JSON: /);
    expect(loadNetworkList(dir, "good").name).toBe("good");
  });

  it("reports a .conflist that is a FIFO or larger than 1 MiB without reading it, and keeps loading the others", () => {
    execFileSync("mkfifo", [join(dir, "a.conflist")]);
    write("b.conflist", `{"cniVersion":"1.0.0","name":"big","plugins":[{"type":"bridge","pad":"${"x".repeat(1024 * 1024)}"}]}`);
    write("c.conflist", { cniVersion: "1.0.0", name: "ok", plugins: [{ type: "bridge" }] });
    const { networks, problems } = loadNetworkDirectory(dir);
    expect(networks.map((network) => network.name)).toEqual(["ok"]);
    expect(problems.map((problem) => problem.reason)).toEqual([
      "is not a regular file (it is a FIFO)",
      expect.stringMatching(/^is \d+ bytes, more than the 1048576 a file read here may have$/),
    ]);
  });

  it("reports a plugin without `type` with the file name and the field plugins[i].type", () => {
    write("net.conflist", { name: "net", cniVersion: "1.0.0", plugins: [{ type: "bridge" }, { ipMasq: true }] });
    expect(onlyProblem()).toEqual({ file: join(dir, "net.conflist"), field: "plugins[1].type", reason: "is required" });
  });

  it("reports a single-plugin .conf without `type` with the field `type`", () => {
    write("net.conf", { name: "net", cniVersion: "1.0.0" });
    expect(onlyProblem()).toEqual({ file: join(dir, "net.conf"), field: "type", reason: "is required" });
  });

  it("reports a `type` that names a path, with the file name and field", () => {
    write("net.conflist", { name: "net", cniVersion: "1.0.0", plugins: [{ type: "/usr/bin/evil" }] });
    expect(onlyProblem()).toEqual({
      file: join(dir, "net.conflist"),
      field: "plugins[0].type",
      reason: "must be a plugin name looked up in the plugin path, not a path",
    });
  });

  it("reports an empty plugin list", () => {
    write("net.conflist", { name: "net", cniVersion: "1.0.0", plugins: [] });
    expect(onlyProblem()).toMatchObject({ field: "plugins", reason: "must not be empty" });
  });

  it("reports a missing network name", () => {
    write("net.conflist", { cniVersion: "1.0.0", plugins: [{ type: "x" }] });
    expect(onlyProblem()).toMatchObject({ field: "name", reason: "is required" });
  });

  it.each(["-starts-with-dash", "has space", "has/slash", ".."])("rejects the network name %j", (name) => {
    write("net.conflist", { name, cniVersion: "1.0.0", plugins: [{ type: "x" }] });
    expect(onlyProblem()).toMatchObject({ field: "name" });
  });

  it("rejects capabilities that are not booleans, naming the capability", () => {
    write("net.conflist", { name: "net", cniVersion: "1.0.0", plugins: [{ type: "x", capabilities: { mac: "yes" } }] });
    expect(onlyProblem()).toMatchObject({ field: "plugins[0].capabilities.mac", reason: "must be true or false" });
  });

  it("accepts the strings \"true\"/\"false\" for flags as libcni does, and rejects anything else", () => {
    write("a.conflist", { name: "a", cniVersion: "1.0.0", disableCheck: "TRUE", disableGC: "false", plugins: [{ type: "x" }] });
    write("b.conflist", { name: "b", cniVersion: "1.0.0", disableCheck: "yes", plugins: [{ type: "x" }] });
    expect(loadNetworkList(dir, "a")).toMatchObject({ disableCheck: true, disableGC: false });
    expect(onlyProblem()).toMatchObject({ file: join(dir, "b.conflist"), field: "disableCheck" });
  });

  it("records only the capabilities set to true", () => {
    write("net.conflist", {
      name: "net",
      cniVersion: "1.0.0",
      plugins: [{ type: "x", capabilities: { portMappings: true, mac: false, ips: true } }],
    });
    expect([...loadNetworkList(dir, "net").plugins[0]!.capabilities].sort()).toEqual(["ips", "portMappings"]);
  });
});

describe("selecting the list's version", () => {
  function versionOf(config: object): string {
    return networkConfigListFromBytes(JSON.stringify({ name: "net", plugins: [{ type: "x" }], ...config })).cniVersion;
  }

  it("uses cniVersion as written when there is no cniVersions", () => {
    expect(versionOf({ cniVersion: "0.3.1" })).toBe("0.3.1");
  });

  it("runs a list without any version at 0.1.0, the spec's default", () => {
    expect(versionOf({})).toBe("0.1.0");
  });

  it("picks the highest of cniVersions and cniVersion that the runtime supports", () => {
    expect(versionOf({ cniVersion: "0.4.0", cniVersions: ["0.3.1", "1.0.0"] })).toBe("1.0.0");
    expect(versionOf({ cniVersion: "1.1.0", cniVersions: ["0.3.1", "1.0.0"] })).toBe("1.1.0");
  });

  it("skips versions newer than the runtime implements, as libcni does", () => {
    expect(versionOf({ cniVersions: ["1.0.0", "1.1.0", "2.0.0"] })).toBe("1.1.0");
    expect(versionOf({ cniVersion: "1.9.0", cniVersions: ["0.4.0"] })).toBe("0.4.0");
  });

  it("skips entries that are no spec version, since results cannot be converted to them", () => {
    expect(versionOf({ cniVersions: ["1.0.0", "1.0.5"] })).toBe("1.0.0");
  });

  it("keeps cniVersion as written when no entry is usable (the plugins then judge it)", () => {
    expect(versionOf({ cniVersion: "3.0.0", cniVersions: ["2.0.0"] })).toBe("3.0.0");
  });

  it("rejects an entry of cniVersions that is not a version, naming its index", () => {
    expect(() => networkConfigListFromBytes(JSON.stringify({ name: "n", cniVersions: ["1.0.0", "one"], plugins: [{ type: "x" }] }), "f")).toThrow(
      expect.objectContaining({ file: "f", field: "cniVersions[1]" }),
    );
  });
});

describe("plugins aggregated from the network's sibling directory", () => {
  it("appends <dir>/<network>/*.conf plugins (sorted by name) after the inlined ones", () => {
    write("net.conflist", { name: "net", cniVersion: "1.1.0", plugins: [{ type: "inline" }] });
    write("net/20-second.conf", { type: "second" });
    write("net/10-first.conf", { type: "first" });
    write("net/30-ignored.json", { type: "ignored" });
    expect(types(loadNetworkList(dir, "net"))).toEqual(["inline", "first", "second"]);
  });

  it("ignores them when loadOnlyInlinedPlugins is true", () => {
    write("net.conflist", { name: "net", cniVersion: "1.1.0", loadOnlyInlinedPlugins: true, plugins: [{ type: "inline" }] });
    write("net/10-first.conf", { type: "first" });
    expect(types(loadNetworkList(dir, "net"))).toEqual(["inline"]);
  });

  it("takes all plugins from the directory when the list has no `plugins` key", () => {
    write("net.conflist", { name: "net", cniVersion: "1.1.0" });
    write("net/10-only.conf", { type: "only" });
    expect(types(loadNetworkList(dir, "net"))).toEqual(["only"]);
  });

  it("reports a list with neither `plugins` nor plugin files", () => {
    write("net.conflist", { name: "net", cniVersion: "1.1.0" });
    expect(onlyProblem()).toMatchObject({ file: join(dir, "net.conflist"), field: "plugins" });
  });

  it("reports loadOnlyInlinedPlugins without `plugins`", () => {
    write("net.conflist", { name: "net", cniVersion: "1.1.0", loadOnlyInlinedPlugins: true });
    expect(onlyProblem()).toMatchObject({ field: "plugins", reason: "is required when loadOnlyInlinedPlugins is true" });
  });

  it("reports a bad plugin file in the directory by its own file name", () => {
    write("net.conflist", { name: "net", cniVersion: "1.1.0", plugins: [{ type: "inline" }] });
    write("net/10-bad.conf", { mtu: 1500 });
    expect(onlyProblem()).toEqual({ file: join(dir, "net", "10-bad.conf"), field: "type", reason: "is required" });
  });
});

describe("looking a network up by name", () => {
  it("throws NetworkNotFoundError naming the directory and the network", () => {
    write("a.conflist", { name: "a", cniVersion: "1.0.0", plugins: [{ type: "x" }] });
    expect(() => loadNetworkList(dir, "missing")).toThrow(new NetworkNotFoundError(dir, "missing", []));
  });

  it("treats a directory that does not exist as empty", () => {
    expect(() => loadNetworkList(join(dir, "nope"), "net")).toThrow(NetworkNotFoundError);
  });

  it("mentions files it could not read at all when the network is not found", () => {
    write("broken.conflist", "{");
    expect(() => loadNetworkList(dir, "net")).toThrow(/files with errors: .*broken\.conflist: invalid JSON/);
  });

  it("throws the error of the file that declares the network when that file is broken", () => {
    write("net.conflist", { name: "net", cniVersion: "1.0.0", plugins: [{ type: "a/b" }] });
    expect(() => loadNetworkList(dir, "net")).toThrow(expect.objectContaining({ file: join(dir, "net.conflist"), field: "plugins[0].type" }));
  });

  it("stops at the first file that declares the name even if a later one is valid, as libcni does", () => {
    write("10-net.conflist", { name: "net", cniVersion: "1.0.0", plugins: [{}] });
    write("20-net.conflist", { name: "net", cniVersion: "1.0.0", plugins: [{ type: "x" }] });
    expect(() => loadNetworkList(dir, "net")).toThrow(ConfigError);
    expect(loadNetworkDirectory(dir).networks).toEqual([]);
  });
});
