import { spawn } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_TEMPLATE, MANIFEST_NAME } from "../../../lib/install/index.ts";
import { pluginLoaders } from "../../../plugins/index.ts";
import { callPlugin } from "../../helpers/cni.ts";
import { DIST, REFERENCE_BIN } from "../../helpers/paths.ts";
import { readYamlDocuments } from "../../helpers/yaml.ts";
import { makeNodeDirs, removeAll, runInstaller } from "./run-installer.ts";

/**
 * `cni install` run as a program on a node's directories (here temporary ones): what it writes,
 * what it leaves alone, what it refuses, and that a second run changes nothing. The same
 * program in the image, under podman, is test/e2e/installer-image.test.ts.
 */

const PLUGINS = Object.keys(pluginLoaders).sort();
const CONFLIST = "10-cni-ts.conflist";
const POD_CIDR = "10.244.7.0/24";

/** Size, inode and modification time of each file: what a run that changes nothing leaves as it was. */
function fingerprint(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir).map((name) => {
      const stats = statSync(join(dir, name));
      return [name, `${stats.size}:${stats.ino}:${stats.mtimeMs}`];
    }),
  );
}

function subnetsOf(conflistPath: string): string[] {
  const list = JSON.parse(readFileSync(conflistPath, "utf8")) as { plugins: Array<{ ipam?: { ranges: Array<Array<{ subnet: string }>> } }> };
  return list.plugins[0]!.ipam!.ranges.flat().map((range) => range.subnet);
}

describe("cni install on a node's directories", () => {
  const scratch: string[] = [];
  afterEach(() => removeAll(scratch));

  it("installs every plugin name as one executable file and writes the conflist with the pod CIDR", async () => {
    const node = makeNodeDirs(scratch);
    const run = await runInstaller([...node.flags, "--pod-cidr", POD_CIDR]);
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(node.bin).sort()).toEqual(PLUGINS);
    expect(new Set(PLUGINS.map((name) => statSync(join(node.bin, name)).ino)).size).toBe(1);
    expect(statSync(join(node.bin, "bridge")).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(node.bin, "bridge")).equals(readFileSync(join(DIST, "cni")))).toBe(true);
    expect(callPlugin(join(node.bin, "host-local"), { command: "VERSION", config: "" }).json.supportedVersions).toContain("1.1.0");
    expect(readdirSync(node.conf).sort()).toEqual([MANIFEST_NAME, CONFLIST].sort());
    expect(subnetsOf(join(node.conf, CONFLIST))).toEqual([POD_CIDR]);
    for (const name of PLUGINS) expect(run.stdout).toContain(`installed ${join(node.bin, name)}`);
    expect(run.stdout).toContain(`installed ${join(node.conf, CONFLIST)}`);
  });

  it("changes nothing on a second run, and says so", async () => {
    const node = makeNodeDirs(scratch);
    expect((await runInstaller([...node.flags, "--pod-cidr", POD_CIDR])).status).toBe(0);
    const before = { bin: fingerprint(node.bin), conf: fingerprint(node.conf) };
    const again = await runInstaller([...node.flags, "--pod-cidr", POD_CIDR]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain("nothing to change");
    expect(again.stdout).not.toMatch(/^(installed|replaced|removed) /m);
    expect({ bin: fingerprint(node.bin), conf: fingerprint(node.conf) }).toEqual(before);
  });

  it("replaces the reference plugins of the same names, and leaves files of other names alone", async () => {
    const node = makeNodeDirs(scratch);
    copyFileSync(join(REFERENCE_BIN, "bridge"), join(node.bin, "bridge"));
    copyFileSync(join(REFERENCE_BIN, "host-local"), join(node.bin, "host-local"));
    symlinkSync(join(REFERENCE_BIN, "portmap"), join(node.bin, "portmap"));
    writeFileSync(join(node.bin, "multus"), "#!/bin/sh\necho multus\n", { mode: 0o755 });
    copyFileSync(join(REFERENCE_BIN, "macvlan"), join(node.bin, "macvlan"));
    copyFileSync(join(REFERENCE_BIN, "vrf"), join(node.bin, "whereabouts"));
    writeFileSync(join(node.conf, "20-other.conflist"), '{"cniVersion":"1.0.0","name":"other","plugins":[{"type":"macvlan","ipam":{"type":"whereabouts"}}]}');
    const foreign = { multus: fingerprint(node.bin).multus, whereabouts: fingerprint(node.bin).whereabouts, conf: fingerprint(node.conf) };

    const run = await runInstaller([...node.flags, "--pod-cidr", POD_CIDR]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`replaced  ${join(node.bin, "bridge")} (held another executable)`);
    expect(run.stdout).toContain(`replaced  ${join(node.bin, "portmap")} (was a symbolic link to ${join(REFERENCE_BIN, "portmap")})`);
    const ours = statSync(join(node.bin, "loopback")).ino;
    for (const name of PLUGINS) expect(statSync(join(node.bin, name)).ino, name).toBe(ours);
    expect(run.stdout).toContain(`replaced  ${join(node.bin, "macvlan")} (held another executable)`);
    expect(readdirSync(node.bin).sort()).toEqual([...PLUGINS, "multus", "whereabouts"].sort());
    expect(fingerprint(node.bin).multus).toBe(foreign.multus);
    expect(fingerprint(node.bin).whereabouts).toBe(foreign.whereabouts);
    expect(fingerprint(node.conf)["20-other.conflist"]).toBe(foreign.conf["20-other.conflist"]);
  });

  it("refuses to replace a conflist of its file name that it did not write, and then changes nothing at all", async () => {
    const node = makeNodeDirs(scratch);
    const theirs = '{"cniVersion":"1.0.0","name":"theirs","plugins":[{"type":"flannel"}]}';
    writeFileSync(join(node.conf, CONFLIST), theirs);
    const run = await runInstaller([...node.flags, "--pod-cidr", POD_CIDR]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`refusing to replace ${join(node.conf, CONFLIST)}: cni install did not write it`);
    expect(run.stderr).toContain("--conflist-name");
    expect(readFileSync(join(node.conf, CONFLIST), "utf8")).toBe(theirs);
    expect(readdirSync(node.bin)).toEqual([]);
    expect(readdirSync(node.conf)).toEqual([CONFLIST]);
  });

  it("rewrites its own conflist when the pod CIDR changes, and removes the one it wrote under an earlier name", async () => {
    const node = makeNodeDirs(scratch);
    expect((await runInstaller([...node.flags, "--pod-cidr", POD_CIDR])).status).toBe(0);
    const changed = await runInstaller([...node.flags, "--pod-cidr", "10.244.8.0/24"]);
    expect(changed.stdout).toContain(`replaced  ${join(node.conf, CONFLIST)} (the template or the node's values changed)`);
    expect(changed.stdout).not.toContain(`installed ${node.bin}`);
    expect(changed.stdout).not.toContain(`replaced  ${node.bin}`);
    expect(subnetsOf(join(node.conf, CONFLIST))).toEqual(["10.244.8.0/24"]);

    const renamed = await runInstaller([...node.flags, "--pod-cidr", "10.244.8.0/24", "--conflist-name", "05-cni-ts.conflist"]);
    expect(renamed.status, renamed.stderr).toBe(0);
    expect(renamed.stdout).toContain(`removed   ${join(node.conf, CONFLIST)}`);
    expect(readdirSync(node.conf).sort()).toEqual([MANIFEST_NAME, "05-cni-ts.conflist"].sort());
  });

  it("leaves a conflist it wrote under an earlier name alone once someone edited it, and says so", async () => {
    const node = makeNodeDirs(scratch);
    expect((await runInstaller([...node.flags, "--pod-cidr", POD_CIDR])).status).toBe(0);
    const edited = readFileSync(join(node.conf, CONFLIST), "utf8").replace('"cni0"', '"cni1"');
    writeFileSync(join(node.conf, CONFLIST), edited);
    const run = await runInstaller([...node.flags, "--pod-cidr", POD_CIDR, "--conflist-name", "05-cni-ts.conflist"]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain(`${join(node.conf, CONFLIST)} was written by an earlier cni install but edited since: left alone`);
    expect(readFileSync(join(node.conf, CONFLIST), "utf8")).toBe(edited);
    // No longer recorded as ours: writing that name again is refused.
    const back = await runInstaller([...node.flags, "--pod-cidr", POD_CIDR]);
    expect(back.status).toBe(1);
    expect(back.stderr).toContain("refusing to replace");
  });

  it("notes a configuration that sorts before its own, which runtimes would use instead", async () => {
    const node = makeNodeDirs(scratch);
    writeFileSync(join(node.conf, "00-first.conf"), '{"cniVersion":"1.0.0","name":"first","type":"bridge"}');
    const run = await runInstaller([...node.flags, "--pod-cidr", POD_CIDR]);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`note: 00-first.conf sorts before ${CONFLIST}`);
  });

  it("links a plugin name that went missing to the installed copy: one file on disk, the others untouched", async () => {
    const node = makeNodeDirs(scratch);
    expect((await runInstaller([...node.flags, "--no-conflist"])).status).toBe(0);
    const before = fingerprint(node.bin);
    unlinkSync(join(node.bin, "tuning"));
    const run = await runInstaller([...node.flags, "--no-conflist"]);
    expect(run.stdout.trim().split("\n")[0]).toBe(`installed ${join(node.bin, "tuning")}`);
    expect(statSync(join(node.bin, "tuning")).ino).toBe(statSync(join(node.bin, "bridge")).ino);
    const { tuning: _, ...others } = before;
    expect(fingerprint(node.bin)).toMatchObject(others);
  });

  it("--check exits 0 when everything is in place, and 1 naming what is missing or changed", async () => {
    const node = makeNodeDirs(scratch);
    expect((await runInstaller([...node.flags, "--check"])).status).toBe(1);
    expect((await runInstaller([...node.flags, "--pod-cidr", POD_CIDR])).status).toBe(0);
    const ready = await runInstaller([...node.flags, "--check"]);
    expect(ready.status, ready.stderr).toBe(0);
    expect(ready.stdout).toContain("ready");
    unlinkSync(join(node.bin, "portmap"));
    writeFileSync(join(node.conf, CONFLIST), "{}");
    const broken = await runInstaller([...node.flags, "--check"]);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain(`not ready: ${join(node.bin, "portmap")} is missing`);
    expect(broken.stderr).toContain(`not ready: ${join(node.conf, CONFLIST)} was changed since cni install wrote it`);
  });

  it("takes the pod CIDR from POD_CIDR when no flag gives one, and the flag over POD_CIDR", async () => {
    const fromEnv = makeNodeDirs(scratch);
    const dual = "10.244.9.0/24,fd00:10:244:9::/64";
    const run = await runInstaller(fromEnv.flags, { POD_CIDR: dual });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("(from POD_CIDR)");
    expect(subnetsOf(join(fromEnv.conf, CONFLIST))).toEqual(dual.split(","));
    const fromFlag = makeNodeDirs(scratch);
    expect((await runInstaller([...fromFlag.flags, "--pod-cidr", POD_CIDR], { POD_CIDR: dual })).status).toBe(0);
    expect(subnetsOf(join(fromFlag.conf, CONFLIST))).toEqual([POD_CIDR]);
  });

  it.each([
    ["not a CIDR", "10.244.1.0", '"10.244.1.0" is not a CIDR'],
    ["host bits set", "10.244.1.5/24", "has host bits set; the network is 10.244.1.0/24"],
    ["two of one family", "10.244.1.0/24,10.244.2.0/24", "at most one per family"],
  ])("rejects a pod CIDR with %s, saying why, and writes nothing", async (_, cidr, message) => {
    const node = makeNodeDirs(scratch);
    const run = await runInstaller([...node.flags, "--pod-cidr", cidr]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(message);
    expect(readdirSync(node.bin)).toEqual([]);
  });

  it("fills a template of its own with the node's name, and names what is wrong with a broken one", async () => {
    const node = makeNodeDirs(scratch);
    const template = join(node.root, "template.conflist");
    writeFileSync(template, '{"cniVersion":"1.0.0","name":"net","plugins":[{"type":"bridge","bridge":"br-__NODE_NAME__","ipam":{"type":"host-local","subnet":"__POD_CIDR__"}}]}');
    const run = await runInstaller([...node.flags, "--template", template, "--pod-cidr", POD_CIDR, "--node-name", "worker-1"]);
    expect(run.status, run.stderr).toBe(0);
    const list = JSON.parse(readFileSync(join(node.conf, CONFLIST), "utf8")) as { plugins: Array<{ bridge: string; ipam: { subnet: string } }> };
    expect(list.plugins[0]).toMatchObject({ bridge: "br-worker-1", ipam: { subnet: POD_CIDR } });

    const failures: Array<[string, string]> = [
      ['{"name":"net","plugins":[{"type":"bridge","x":"__PODCIDR__"}]}', "unknown placeholder __PODCIDR__"],
      ['{"name":"net","plugins":[{"bridge":"cni0"}]}', "plugins[0].type: is required"],
      ['{"name":"net","plugins":[{"type":"bridge"}],}', "filled in, is not JSON"],
      ['{"name":"net","plugins":[{"type":"bridge","bridge":"__NODE_NAME__"}]}', "uses __NODE_NAME__"],
    ];
    for (const [text, message] of failures) {
      writeFileSync(template, text);
      const failed = await runInstaller([...makeNodeDirs(scratch).flags, "--template", template]);
      expect(failed.status, text).toBe(1);
      expect(failed.stderr, text).toContain(message);
    }
  });

  it("installs the plugins only with --no-conflist, needing no pod CIDR", async () => {
    const node = makeNodeDirs(scratch);
    const run = await runInstaller([...node.flags, "--no-conflist"]);
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(node.bin).sort()).toEqual(PLUGINS);
    expect(readdirSync(node.conf)).toEqual([]);
  });

  it("stays up after installing with --keep-running, and exits 0 on SIGTERM", async () => {
    const node = makeNodeDirs(scratch);
    const child = spawn(join(DIST, "cni"), ["install", ...node.flags, "--pod-cidr", POD_CIDR, "--keep-running"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk;
        if (stdout.includes("staying up until stopped")) resolve();
      });
      child.on("exit", (code) => reject(new Error(`exited with ${code} before staying up: ${stdout}`)));
    });
    expect(existsSync(join(node.conf, CONFLIST))).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("rejects unknown options with its usage", async () => {
    const run = await runInstaller(["--bin-dri", "/tmp"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("Usage: cni install");
  });
});

describe("deploy/kubernetes", () => {
  it("the ConfigMap's template is the installer's built-in one", () => {
    const [configMap] = readYamlDocuments("deploy/kubernetes/configmap.yaml") as Array<{ data: Record<string, string> }>;
    expect(configMap!.data["template.conflist"]).toBe(DEFAULT_TEMPLATE);
  });
});
