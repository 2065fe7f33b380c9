import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Teardown } from "./teardown.ts";

/**
 * The start of every runtime test: a temporary directory for all the runtime's files, removed at
 * the end (after unmounting whatever a runtime that died left mounted there); the host paths the
 * runtime writes whatever it is told, removed if this run created them; and the cgroup the test
 * puts its containers under.
 */
export function runtimeWorkspace(teardown: Teardown, options: { prefix: string; hostPaths: string[]; cgroup: string }): string {
  const dir = mkdtempSync(join(tmpdir(), options.prefix));
  teardown.add(`remove ${dir}`, () => {
    unmountAllUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  teardown.add(`remove what this run created of ${options.hostPaths.join(", ")}`, removeLaterIfCreatedNow(options.hostPaths));
  teardown.add(`remove the cgroup ${options.cgroup}`, () => removeCgroup(options.cgroup));
  return dir;
}

/**
 * Host paths that a runtime creates whatever its configuration says (podman's blob-info cache
 * under /var/lib/containers, containerd's shim socket directory under /run/containerd).
 * Returns a function that removes those of them that did not exist when this was called.
 */
function removeLaterIfCreatedNow(paths: string[]): () => void {
  const existed = new Set(paths.filter((path) => existsSync(path)));
  return () => {
    for (const path of paths) if (!existed.has(path)) rmSync(path, { recursive: true, force: true });
  };
}

/** Removes the cgroup `name` (a top-level cgroup the test chose) and its children in every hierarchy. */
function removeCgroup(name: string): void {
  const roots = ["/sys/fs/cgroup", ...readdirSync("/sys/fs/cgroup", { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => join("/sys/fs/cgroup", entry.name))];
  const removeTree = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeTree(join(dir, entry.name));
    rmdirSync(dir); // a cgroup directory goes with rmdir only, and only once it is empty of tasks
  };
  for (const root of roots) if (existsSync(join(root, name))) removeTree(join(root, name));
}

/** Lazily unmounts every mount point at or below `dir`, deepest first (left by a runtime that died). */
function unmountAllUnder(dir: string): void {
  const mountPoints = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4]?.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of mountPoints) spawnSync("umount", ["-l", point]);
}
