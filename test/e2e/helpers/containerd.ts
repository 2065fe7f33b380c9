import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CriRuntimeService } from "./cri.ts";
import { missingPrerequisite, run } from "./commands.ts";

/** Why a private containerd cannot run pods here, or undefined. */
export function containerdMissing(): string | undefined {
  return missingPrerequisite(["containerd", "ctr", "containerd-shim-runc-v2", "runc", "nsenter"]);
}

/** containerd 1.6's shims put their sockets here whatever the configuration says. */
export const CONTAINERD_HOST_PATHS = ["/run/containerd", "/run/containerd/s"];

export interface PrivateContainerdOptions {
  /** The CRI plugin's CNI `bin_dir`: where containerd looks for plugins. */
  cniBinDir: string;
  /** The CRI plugin's CNI `conf_dir`: containerd uses the first network configuration in it. */
  cniConfDir: string;
  /** The image of every pod's sandbox container (there is no registry to pull pause from). */
  sandboxImage: string;
}

/** A containerd of the test's own: root, state, sockets, runc state and CNI settings in one directory. */
export interface PrivateContainerd {
  cri: CriRuntimeService;
  /** Runs `ctr` against this containerd in the CRI's namespace (k8s.io); returns stdout. */
  ctr(args: string[]): string;
  /** Stops the daemon (and any shim of its that outlived it). */
  stop(): Promise<void>;
}

const toml = JSON.stringify; // a JSON string is a valid TOML basic string

/**
 * containerd 1.6's configuration for a private instance. restrict_oom_score_adj: the sandbox's
 * oom_score_adj (-998) cannot be set without CAP_SYS_RESOURCE, which this machine's root lacks.
 * netns_mounts_under_state_dir keeps the pods' namespace files out of /run/netns.
 */
function configToml(dir: string, options: PrivateContainerdOptions): string {
  const cri = `plugins."io.containerd.grpc.v1.cri"`;
  return [
    "version = 2",
    `root = ${toml(join(dir, "root"))}`,
    `state = ${toml(join(dir, "state"))}`,
    // snapshotters this machine cannot have, and tracing nobody collects: skipped rather than warned about
    `disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]`,
    "[grpc]",
    `  address = ${toml(join(dir, "containerd.sock"))}`,
    "[ttrpc]",
    `  address = ${toml(join(dir, "containerd.sock.ttrpc"))}`,
    `[plugins."io.containerd.internal.v1.opt"]`,
    `  path = ${toml(join(dir, "opt"))}`,
    `[${cri}]`,
    `  sandbox_image = ${toml(options.sandboxImage)}`,
    `  restrict_oom_score_adj = true`,
    `  netns_mounts_under_state_dir = true`,
    `  [${cri}.cni]`,
    `    bin_dir = ${toml(options.cniBinDir)}`,
    `    conf_dir = ${toml(options.cniConfDir)}`,
    `    max_conf_num = 1`,
    `  [${cri}.containerd]`,
    `    default_runtime_name = "runc"`,
    `    [${cri}.containerd.runtimes.runc]`,
    `      runtime_type = "io.containerd.runc.v2"`,
    `      [${cri}.containerd.runtimes.runc.options]`,
    `        Root = ${toml(join(dir, "runc"))}`,
    "",
  ].join("\n");
}

/** PIDs of containerd shims started for the containerd listening on `socket`. */
function shimsOf(socket: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // exited meanwhile
    }
    if (argv[0]?.endsWith("containerd-shim-runc-v2") && argv.includes(socket)) pids.push(Number(entry));
  }
  return pids;
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const exited = new Promise<true>((resolve) => child.once("exit", () => resolve(true)));
  return Promise.race([exited, sleep(timeoutMs).then(() => false)]);
}

/** Starts containerd with its own configuration in `dir` and waits until its CRI answers. */
export async function startPrivateContainerd(dir: string, options: PrivateContainerdOptions): Promise<PrivateContainerd> {
  for (const sub of ["root", "state", "opt", "runc"]) mkdirSync(join(dir, sub), { recursive: true });
  const configFile = join(dir, "config.toml");
  writeFileSync(configFile, configToml(dir, options));
  const socket = join(dir, "containerd.sock");
  const logFile = join(dir, "containerd.log");
  const log = openSync(logFile, "a");
  const daemon = spawn("containerd", ["--config", configFile], { stdio: ["ignore", log, log] });
  closeSync(log);
  // If the test process dies, the daemon must not outlive it.
  const killOnExit = () => daemon.kill("SIGKILL");
  process.once("exit", killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener("exit", killOnExit);
    daemon.kill("SIGTERM");
    if (!(await waitForExit(daemon, 10_000))) {
      daemon.kill("SIGKILL");
      await waitForExit(daemon, 5_000);
    }
    for (const pid of shimsOf(socket)) process.kill(pid, "SIGKILL");
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (daemon.exitCode !== null) throw new Error(`containerd exited with ${daemon.exitCode}: ${readFileSync(logFile, "utf8").slice(-2000)}`);
    if (existsSync(socket)) {
      const cri = CriRuntimeService.connect(socket);
      try {
        await cri.version();
        return {
          cri,
          ctr: (args) => run("ctr", ["--address", socket, "--namespace", "k8s.io", ...args], { timeoutMs: 120_000 }),
          stop: async () => {
            cri.close();
            await stop();
          },
        };
      } catch (error) {
        cri.close();
        if (Date.now() > deadline) {
          await stop();
          throw new Error(`containerd's CRI did not answer within 30 s (${String(error)}); log: ${readFileSync(logFile, "utf8").slice(-2000)}`);
        }
      }
    } else if (Date.now() > deadline) {
      await stop();
      throw new Error(`containerd did not open ${socket} within 30 s; log: ${readFileSync(logFile, "utf8").slice(-2000)}`);
    }
    await sleep(200);
  }
}

/** Runs a command in the network namespace at `netnsPath` (a pod's: not under /run/netns); returns stdout. */
export function inNetns(netnsPath: string, command: string[]): string {
  return run("nsenter", [`--net=${netnsPath}`, ...command]);
}
