/**
 * Where the bench runs and what it leaves behind: nothing. The whole run happens inside a
 * network namespace of its own (`ip netns exec`), so every bridge, veth, iptables rule and
 * sysctl the plugins touch lives there and disappears with it; eth0, the host's routes and
 * firewall are never seen. Container namespaces and data directories are named with a per-run
 * tag and removed at the end, on Ctrl-C and on SIGTERM too.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const NETNS_DIR = "/run/netns";
const TEMP_ROOT = "/tmp";
const INSIDE_FLAG = "--inside-bench-netns";

/** The tag of this run when this process is the one inside the bench namespace. */
export function insideTag(argv: readonly string[]): { tag: string; rest: string[] } | undefined {
  const index = argv.indexOf(INSIDE_FLAG);
  if (index < 0) return undefined;
  return { tag: argv[index + 1]!, rest: [...argv.slice(0, index), ...argv.slice(index + 2)] };
}

/**
 * Creates the bench namespace, runs this script again inside it and removes everything named
 * with the run's tag afterwards, however the inner run ended. Returns the inner exit status.
 */
export async function runInBenchNamespace(script: string, argv: readonly string[]): Promise<number> {
  const tag = randomBytes(3).toString("hex");
  const netns = `cnibench-${tag}`;
  execFileSync("ip", ["netns", "add", netns]);
  try {
    execFileSync("ip", ["-n", netns, "link", "set", "lo", "up"]);
    const child = Bun.spawn(["ip", "netns", "exec", netns, process.execPath, script, INSIDE_FLAG, tag, ...argv], {
      stdio: ["inherit", "inherit", "inherit"],
    });
    // A terminal's Ctrl-C reaches the inner run too; SIGTERM is passed on. Either way the inner
    // run cleans up and exits, and the outer one waits for it before removing the rest.
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    process.on("SIGINT", forward("SIGINT"));
    process.on("SIGTERM", forward("SIGTERM"));
    return await child.exited;
  } finally {
    removeLeftovers(tag);
    tryRun(["ip", "netns", "delete", netns]);
  }
}

/** Namespaces and directories of one run, created on demand and all removed by cleanup(). */
export class BenchHost {
  private readonly namespaces = new Set<string>();
  private readonly dirs = new Set<string>();
  private counter = 0;

  constructor(readonly tag: string) {}

  /** Removes everything on SIGINT/SIGTERM, then exits as the signal would have. */
  installSignalCleanup(): void {
    const onSignal = (status: number) => () => {
      process.stderr.write("\ninterrupted: cleaning up\n");
      this.cleanup();
      process.exit(status);
    };
    process.on("SIGINT", onSignal(130));
    process.on("SIGTERM", onSignal(143));
  }

  /** A short name unique to this run, also usable as an interface name (at most 15 bytes). */
  uniqueName(prefix: string): string {
    const name = `${prefix}${this.tag}${(this.counter++).toString(36)}`;
    if (name.length > 15) throw new Error(`bench: name ${name} is longer than 15 bytes`);
    return name;
  }

  /** Creates `count` fresh network namespaces in one `ip -batch`; returns their paths. */
  createNamespaces(count: number): string[] {
    const names = Array.from({ length: count }, () => this.uniqueName("cb"));
    for (const name of names) this.namespaces.add(name);
    execFileSync("ip", ["-batch", "-"], { input: names.map((name) => `netns add ${name}\n`).join("") });
    return names.map((name) => join(NETNS_DIR, name));
  }

  deleteNamespaces(paths: readonly string[]): void {
    const names = paths.map((path) => path.slice(NETNS_DIR.length + 1));
    tryRun(["ip", "-force", "-batch", "-"], names.map((name) => `netns delete ${name}\n`).join(""));
    for (const name of names) this.namespaces.delete(name);
  }

  /** A fresh directory under /tmp named with the run's tag. */
  tempDir(purpose: string): string {
    const dir = mkdtempSync(join(TEMP_ROOT, `cnibench-${this.tag}-${purpose}-`));
    this.dirs.add(dir);
    return dir;
  }

  removeDir(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    this.dirs.delete(dir);
  }

  /** Deletes every namespace and directory still registered. Synchronous: safe in a signal handler. */
  cleanup(): void {
    if (this.namespaces.size > 0) this.deleteNamespaces([...this.namespaces].map((name) => join(NETNS_DIR, name)));
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    this.dirs.clear();
  }
}

/**
 * What an inner run killed outright may leave: namespace files (the inner run's mounts die with
 * it, the files do not) and directories carrying the run's tag.
 */
function removeLeftovers(tag: string): void {
  const names = listDir(NETNS_DIR).filter((name) => name.startsWith(`cb${tag}`));
  if (names.length > 0) tryRun(["ip", "-force", "-batch", "-"], names.map((name) => `netns delete ${name}\n`).join(""));
  for (const name of listDir(TEMP_ROOT).filter((entry) => entry.startsWith(`cnibench-${tag}-`))) {
    rmSync(join(TEMP_ROOT, name), { recursive: true, force: true });
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function tryRun(command: string[], input?: string): void {
  try {
    execFileSync(command[0]!, command.slice(1), { input, stdio: ["pipe", "ignore", "ignore"] });
  } catch {
    // already gone
  }
}
