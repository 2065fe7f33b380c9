import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { missingPrerequisite, run } from "./commands.ts";

/** busybox-static: one binary, so an image needs nothing else (no registry is reachable). */
const BUSYBOX = "/bin/busybox";
const APPLETS = ["sh", "ip", "httpd", "cat", "sleep", "ping", "ls", "hostname"];
/** What the image runs unless told otherwise: a web server for the page in /www. */
export const SERVE_PAGE = ["/bin/httpd", "-f", "-p", "80", "-h", "/www"];

/** podman 4.3 keeps its blob-info cache here whatever storage it is given (image import, save). */
export const PODMAN_HOST_PATHS = ["/var/lib/containers", "/var/lib/containers/cache", "/var/lib/containers/cache/blob-info-cache-v1.boltdb"];

/**
 * `podman run` as it works on this machine: runc (crun refuses the hybrid cgroups) and limits
 * within the host's (podman's default ulimits are above them and refused).
 */
export const PODMAN_RUN = ["--runtime", "runc", "run", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];

/** Why podman cannot drive CNI plugins here, or undefined. */
export function podmanMissing(): string | undefined {
  const missing = missingPrerequisite(["podman", "runc", "busybox"]);
  if (missing) return missing;
  const version = /(\d+)\.(\d+)/.exec(spawnSync("podman", ["--version"], { encoding: "utf8" }).stdout);
  if (!version) return "podman --version printed no version";
  if (Number(version[1]) >= 5) return `podman ${version[0]} has no CNI backend (podman 5 removed it); these tests need podman 4`;
  return undefined;
}

/** A podman whose configuration, storage, state and networks all live in one directory of the test. */
export interface PrivatePodman {
  /** The environment every command of this podman runs with (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF). */
  env: NodeJS.ProcessEnv;
  /** Where `podman network create` writes conflists. */
  networkConfigDir: string;
  /** Runs podman; returns stdout, throws with podman's own error output. */
  podman(args: string[], timeoutMs?: number): string;
}

/**
 * Writes a containers.conf (CNI backend, plugins only from `pluginDir`) and a storage.conf
 * (graph root and run root in `dir`) and returns a podman using them. Nothing of the host's
 * podman configuration or storage is read or written; only its blob-info cache still goes to
 * the host (PODMAN_HOST_PATHS).
 */
export function createPrivatePodman(dir: string, pluginDir: string): PrivatePodman {
  const networkConfigDir = join(dir, "networks");
  for (const sub of ["networks", "root", "runroot", "tmp"]) mkdirSync(join(dir, sub), { recursive: true });
  const toml = JSON.stringify; // a JSON string is a valid TOML basic string
  writeFileSync(
    join(dir, "containers.conf"),
    [
      "[engine]",
      `runtime = "runc"`,
      `cgroup_manager = "cgroupfs"`, // no systemd on the host
      `events_logger = "file"`,
      `events_logfile_path = ${toml(join(dir, "events.log"))}`,
      `tmp_dir = ${toml(join(dir, "tmp"))}`,
      "[network]",
      `network_backend = "cni"`,
      `cni_plugin_dirs = [${toml(pluginDir)}]`,
      `network_config_dir = ${toml(networkConfigDir)}`,
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "storage.conf"),
    ["[storage]", `driver = "vfs"`, `graphroot = ${toml(join(dir, "root"))}`, `runroot = ${toml(join(dir, "runroot"))}`, ""].join("\n"),
  );
  const env = { ...process.env, CONTAINERS_CONF: join(dir, "containers.conf"), CONTAINERS_STORAGE_CONF: join(dir, "storage.conf") };
  return {
    env,
    networkConfigDir,
    podman: (args, timeoutMs = 90_000) => run("podman", args, { env, timeoutMs }),
  };
}

/**
 * Builds the test image from busybox-static: a root with /bin/busybox, its applets as links and
 * `page` as /www/index.html, imported as `reference` with SERVE_PAGE as its command.
 */
export function importBusyboxImage(podman: PrivatePodman, dir: string, reference: string, page: string): void {
  const rootfs = join(dir, "rootfs");
  mkdirSync(join(rootfs, "bin"), { recursive: true });
  mkdirSync(join(rootfs, "www"));
  copyFileSync(BUSYBOX, join(rootfs, "bin/busybox"));
  for (const applet of APPLETS) symlinkSync("busybox", join(rootfs, "bin", applet));
  writeFileSync(join(rootfs, "www/index.html"), page);
  const tarball = join(dir, "rootfs.tar");
  run("tar", ["-C", rootfs, "-cf", tarball, "."]);
  podman.podman(["import", "--change", `CMD ${JSON.stringify(SERVE_PAGE)}`, tarball, reference]);
}
