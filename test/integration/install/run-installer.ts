import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST } from "../../helpers/paths.ts";

export interface InstallerRun {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `dist/cni install` with only PATH and `env` in its environment (no KUBERNETES_* or
 * POD_CIDR of the test's own). Asynchronous, so that a server in the test process can answer it.
 */
export function runInstaller(args: string[], env: Record<string, string> = {}): Promise<InstallerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(DIST, "cni"), ["install", ...args], { env: { PATH: process.env.PATH, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status: status ?? -1, stdout, stderr });
    });
  });
}

/** A node's two CNI directories, made empty for one test. */
export interface NodeDirs {
  root: string;
  bin: string;
  conf: string;
  /** --bin-dir and --conf-dir for them. */
  flags: string[];
}

export function makeNodeDirs(scratch: string[]): NodeDirs {
  const root = mkdtempSync(join(tmpdir(), "cni-install-node-"));
  scratch.push(root);
  const bin = join(root, "opt/cni/bin");
  const conf = join(root, "etc/cni/net.d");
  mkdirSync(bin, { recursive: true });
  mkdirSync(conf, { recursive: true });
  return { root, bin, conf, flags: ["--bin-dir", bin, "--conf-dir", conf] };
}

export function removeAll(scratch: string[]): void {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
}
