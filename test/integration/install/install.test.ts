import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pluginLoaders } from "../../../plugins/index.ts";
import { callPlugin } from "../../helpers/cni.ts";
import { DIST } from "../../helpers/paths.ts";

const NAMES = [...Object.keys(pluginLoaders), "cnitool"].sort();

describe("scripts/install.sh and scripts/release.sh", () => {
  const scratch: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "cni-install-"));
    scratch.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("installs every plugin name as a link to one executable, replacing files of those names only", () => {
    const dest = tempDir();
    execFileSync("bash", ["-c", `echo old > ${dest}/bridge; echo mine > ${dest}/other-plugin`]);
    execFileSync("bash", ["scripts/install.sh", "--dest", dest, "--dist", DIST]);
    expect(readdirSync(dest).sort()).toEqual([...NAMES, "other-plugin"].sort());
    const inodes = new Set(NAMES.map((name) => statSync(join(dest, name)).ino));
    expect(inodes.size).toBe(1);
    expect(statSync(join(dest, "bridge")).mode & 0o111).toBe(0o111);
    const version = callPlugin(join(dest, "bridge"), { command: "VERSION", config: "" });
    expect(version.json.supportedVersions).toContain("1.1.0");
    // Installed twice over itself: still one executable, nothing half-written left behind.
    execFileSync("bash", ["scripts/install.sh", "--dest", dest, "--dist", DIST]);
    expect(readdirSync(dest).filter((name) => name.startsWith("."))).toEqual([]);
  });

  it("refuses to install before a build, saying so", () => {
    const empty = tempDir();
    let message = "";
    try {
      execFileSync("bash", ["scripts/install.sh", "--dest", tempDir(), "--dist", empty], { stdio: "pipe" });
    } catch (error) {
      message = String((error as { stderr: Buffer }).stderr);
    }
    expect(message).toContain("npm run build");
  });

  it("packs a release tarball with one file per plugin name, the executable stored once, and the dhcp daemon's systemd units", () => {
    const output = execFileSync("bash", ["scripts/release.sh", "--no-build"], { env: { ...process.env, CNI_DIST: DIST }, encoding: "utf8" });
    const tarball = output.trim().split("\n").pop()!.split(" ")[0]!;
    expect(tarball).toMatch(/cni-ts-linux-(amd64|arm64|\w+)-v\d+\.\d+\.\d+\.tgz$/);
    const listing = execFileSync("tar", ["-tvzf", tarball], { encoding: "utf8" }).trim().split("\n");
    const files = listing.map((line) => line.split(/\s+/).slice(5).join(" ")).filter((name) => !name.endsWith("/"));
    expect(files.map((name) => name.replace(/^\.\//, "").split(" ")[0]).sort()).toEqual([...NAMES, "README.md", "systemd/cni-dhcp.service", "systemd/cni-dhcp.socket"].sort());
    // tar stores hard links as links: the executable's bytes are in the archive once.
    expect(listing.filter((line) => line.startsWith("h")).length).toBe(NAMES.length - 1);
    rmSync(join(DIST, "release"), { recursive: true, force: true });
  });
});
