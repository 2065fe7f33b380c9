/**
 * Where the torture suite runs and what it leaves: nothing. A run has a tag and a directory
 * (/tmp/tt-torture-<tag>); each batch of cases gets a world: a throwaway host namespace (the
 * plugins' "host": every bridge, veth, rule and sysctl they touch lives there), a directory for
 * its data, and what its plugin kind needs (a container namespace, for meta plugins an
 * attachment made by bridge). A world that shows residue is thrown away and replaced, so one
 * case's leftovers never count against the next. Everything named with the tag is removed at
 * the end, on Ctrl-C and SIGTERM too.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { groupAlive, inNamespace, killGroup, runProcess } from "./exec.ts";
import type { OddPaths } from "./mutate.ts";
import { takeSnapshot, type Snapshot, type SnapshotScope } from "./snapshot.ts";
import type { SeedContext, TargetKind, TortureTarget } from "./targets.ts";

const NETNS_DIR = "/run/netns";
/** Shared system directories where a plugin run with a default data directory writes. */
const SYSTEM_DATA_DIRS = ["/run/cni/tuning", "/var/lib/cni/networks", "/var/lib/cni"];

/** A set of plugin executables: ours (dist/bin) or the reference's (/usr/lib/cni). */
export interface Suite {
  id: "ours" | "reference";
  bin: string;
}

/** What plugins are started with besides CNI_*: a fixed, minimal environment. */
export const BASE_ENV = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" };

/** The run: its tag, its directory, its namespaces; cleanup() removes all of them. */
export class TortureRun {
  readonly tag = randomBytes(3).toString("hex");
  readonly root: string;
  private readonly namespaces = new Set<string>();
  private counter = 0;
  private worlds = 0;

  constructor() {
    this.root = join("/tmp", `tt-torture-${this.tag}`);
    mkdirSync(this.root, { recursive: true });
  }

  /** A name unique to this run, usable as an interface or namespace name (at most 15 bytes). */
  uniqueName(kind: string): string {
    const name = `tt${this.tag}${kind}${(this.counter++).toString(36)}`;
    if (name.length > 15) throw new Error(`torture: name ${name} is longer than 15 bytes`);
    return name;
  }

  nextWorldIndex(): number {
    return this.worlds++;
  }

  createNamespace(kind: string): string {
    const name = this.uniqueName(kind);
    execFileSync("ip", ["netns", "add", name]);
    this.namespaces.add(name);
    execFileSync("ip", ["-n", name, "link", "set", "lo", "up"]);
    return name;
  }

  deleteNamespaces(names: readonly string[]): void {
    if (names.length === 0) return;
    spawnSync("ip", ["-force", "-batch", "-"], { input: names.map((name) => `netns delete ${name}\n`).join("") });
    for (const name of names) this.namespaces.delete(name);
  }

  installSignalCleanup(): void {
    const onSignal = (status: number) => () => {
      process.stderr.write("\ninterrupted: cleaning up\n");
      this.cleanup();
      process.exit(status);
    };
    process.on("SIGINT", onSignal(130));
    process.on("SIGTERM", onSignal(143));
  }

  /** Removes every namespace, directory and file of the run. Synchronous: safe in a signal handler. */
  cleanup(): void {
    const leftovers = listDir(NETNS_DIR).filter((name) => name.startsWith(`tt${this.tag}`));
    this.deleteNamespaces([...new Set([...this.namespaces, ...leftovers])]);
    rmSync(this.root, { recursive: true, force: true });
    for (const dir of SYSTEM_DATA_DIRS) {
      for (const name of listDir(dir)) if (name.includes(this.tag)) rmSync(join(dir, name), { recursive: true, force: true });
    }
  }
}

/** Files a hostile configuration may point at, made per world; the big one is sparse. */
function makeOddPaths(dir: string, token: string): OddPaths {
  mkdirSync(join(dir, "directory"), { recursive: true });
  const fifo = join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  const bigFile = join(dir, "big");
  const fd = openSync(bigFile, "w");
  closeSync(fd);
  execFileSync("truncate", ["-s", "256M", bigFile]);
  writeFileSync(join(dir, "regular"), "nameserver 192.0.2.53\nnot a config\n");
  writeFileSync(join(dir, "empty"), "");
  return {
    fifo,
    bigFile,
    regularFile: join(dir, "regular"),
    emptyFile: join(dir, "empty"),
    directory: join(dir, "directory"),
    missing: join(dir, "missing", "file"),
    escape: `../${token}-escape`,
    longContainerId: `${token}x${"x".repeat(1000)}`,
  };
}

/** An attachment made by bridge for meta plugins to work on. */
export interface BaseAttachment {
  containerId: string;
  netns: string;
  ifname: string;
  config: string;
  prevResult: Record<string, unknown>;
}

/**
 * One batch's world: its host namespace, data directory, container namespaces and snapshot
 * scope. Worlds of plugins fuzzed at once share the machine's system directories, so all that a
 * world's cases may put there carries its token: network name `<token>-net`, container IDs
 * `<token>x<n>`; a world's snapshot sees only its own.
 */
export class World {
  readonly host: string;
  readonly dir: string;
  /** tt<tag><suite letter><index>: unique in the run. */
  readonly token: string;
  readonly odd: OddPaths;
  /** Where plugins run: relative paths a configuration names land in the world's directory. */
  private readonly cwd: string;
  readonly context: SeedContext;
  /** The container namespace ipam and meta cases use (meta: the base attachment's). */
  sharedContainer: string | undefined;
  base: BaseAttachment | undefined;
  private readonly containers: string[] = [];
  baseline: Snapshot = new Map();
  /** The target's daemon, when it has one: a session leader, so its pid is its group's id. */
  private daemon: { pid: number; exited: Promise<number> } | undefined;
  private daemonExit: string | undefined;
  /** Outside the world's directory: its growth is no host state of the world. */
  private readonly daemonLog: string;

  private constructor(
    readonly run: TortureRun,
    readonly suite: Suite,
    readonly index: number,
  ) {
    this.host = run.createNamespace("h");
    this.dir = join(run.root, `world${index}-${suite.id}`);
    this.token = `tt${run.tag}${suite.id.charAt(0)}${index.toString(36)}`;
    this.cwd = join(this.dir, "cwd");
    mkdirSync(this.cwd, { recursive: true });
    this.odd = makeOddPaths(join(this.dir, "odd"), this.token);
    const dataDir = join(this.dir, "data");
    mkdirSync(dataDir, { recursive: true });
    const resolvConf = join(this.dir, "resolv.conf");
    writeFileSync(resolvConf, "nameserver 192.0.2.1\nsearch example.com\noptions ndots:2\n");
    const third = index % 250;
    this.context = {
      network: `${this.token}-net`,
      bridge: run.uniqueName("b"),
      subnet4: `10.77.${third}.0/24`,
      gateway4: `10.77.${third}.1`,
      subnet6: `fd77:${third.toString(16)}::/64`,
      dataDir,
      resolvConf,
      hostPort: 30_000 + (index % 1000) * 10,
      prevResult: undefined,
      daemonSocket: join(this.dir, "daemon", "plugin.sock"),
    };
    this.daemonLog = join(run.root, `${this.token}-daemon.log`);
  }

  /**
   * A world ready for plugins of `kind`; meta worlds carry a bridge attachment made by the suite's
   * bridge; a target with a daemon gets it running (`target`: the plugin whose daemon it is).
   */
  static async create(run: TortureRun, suite: Suite, index: number, kind: TargetKind, target?: Pick<TortureTarget, "plugin" | "daemon">): Promise<World> {
    const world = new World(run, suite, index);
    try {
      if (kind !== "main") world.sharedContainer = world.newContainer();
      if (kind === "meta") await world.attachBase();
      if (target?.daemon) await world.startDaemon(target.plugin, target.daemon(world.context.daemonSocket));
      world.baseline = await world.snapshot();
      return world;
    } catch (error) {
      await world.destroy();
      throw error;
    }
  }

  get scope(): SnapshotScope {
    const markers = [`${this.token}x`, `${this.token}-`];
    return { netns: this.host, dirs: [this.dir], taggedDirs: SYSTEM_DATA_DIRS.map((dir) => ({ dir, markers })) };
  }

  snapshot(): Promise<Snapshot> {
    return takeSnapshot(this.scope);
  }

  /** A fresh container namespace; its path is what CNI_NETNS takes. */
  newContainer(): string {
    const name = this.run.createNamespace("c");
    this.containers.push(name);
    return join(NETNS_DIR, name);
  }

  /** The environment of a plugin call in this world. */
  env(command: string, containerId: string, netns: string, ifname: string): Record<string, string> {
    return { ...BASE_ENV, CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: netns, CNI_IFNAME: ifname, CNI_PATH: this.suite.bin };
  }

  /** Runs one plugin of the suite in this world's host namespace. */
  call(plugin: string, env: Record<string, string>, stdin: Buffer, timeoutMs: number) {
    return runProcess({ argv: inNamespace(this.host, [join(this.suite.bin, plugin)]), env, stdin, cwd: this.cwd, timeoutMs });
  }

  private async startDaemon(plugin: string, args: string[]): Promise<void> {
    const log = openSync(this.daemonLog, "a");
    try {
      const proc = Bun.spawn(inNamespace(this.host, [join(this.suite.bin, plugin), ...args]), { env: BASE_ENV, cwd: this.cwd, stdin: "ignore", stdout: log, stderr: log });
      this.daemon = { pid: proc.pid, exited: proc.exited };
      void proc.exited.then((status) => {
        this.daemonExit ??= `the ${plugin} daemon ended (${proc.signalCode ?? `exit ${status}`}): ${this.daemonLogTail()}`;
      });
    } finally {
      closeSync(log);
    }
    const deadline = performance.now() + 10_000;
    while (!existsSync(this.context.daemonSocket)) {
      if (this.daemonExit || performance.now() > deadline) throw new Error(`the ${plugin} daemon of ${this.host} did not start: ${this.daemonExit ?? this.daemonLogTail()}`);
      await Bun.sleep(20);
    }
  }

  /** Why the world's daemon is gone, when it died since the world began (once: the world is then replaced). */
  daemonDied(): string | undefined {
    return this.daemon ? this.daemonExit : undefined;
  }

  private daemonLogTail(): string {
    try {
      return readFileSync(this.daemonLog, "utf8").trim().split("\n").slice(-3).join(" | ") || "(no output)";
    } catch {
      return "(no output)";
    }
  }

  private async stopDaemon(): Promise<void> {
    if (!this.daemon) return;
    const { pid, exited } = this.daemon;
    this.daemon = undefined;
    this.daemonExit ??= "stopped";
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      // already gone
    }
    await Promise.race([exited, Bun.sleep(5_000)]);
    if (groupAlive(pid)) killGroup(pid);
  }

  private async attachBase(): Promise<void> {
    const netns = this.sharedContainer!;
    const containerId = `${this.run.uniqueName("base")}`;
    const { network, bridge, dataDir, subnet4, gateway4, subnet6 } = this.context;
    const config = JSON.stringify({
      cniVersion: "1.0.0",
      name: network,
      type: "bridge",
      bridge,
      isGateway: true,
      ipam: { type: "host-local", dataDir, ranges: [[{ subnet: subnet4, gateway: gateway4 }], [{ subnet: subnet6 }]], routes: [{ dst: "0.0.0.0/0" }] },
    });
    const run = await this.call("bridge", this.env("ADD", containerId, netns, "eth0"), Buffer.from(config), 30_000);
    if (run.status !== 0) throw new Error(`the base attachment of ${this.host} failed: ${run.stdout || run.stderr}`);
    const result = JSON.parse(run.stdout) as { interfaces: { name: string; mac: string }[]; ips: { address: string; gateway?: string }[] };
    // The same shape whichever bridge made it, so that a seed's mutations are the same for both suites.
    const prevResult = {
      cniVersion: "1.0.0",
      interfaces: [
        { name: result.interfaces[0]!.name, mac: result.interfaces[0]!.mac },
        { name: result.interfaces[1]!.name, mac: result.interfaces[1]!.mac },
        { name: "eth0", mac: result.interfaces[2]!.mac, sandbox: netns },
      ],
      ips: result.ips.map((ip) => ({ address: ip.address, gateway: ip.gateway ?? gateway4, interface: 2 })),
      routes: [{ dst: "0.0.0.0/0", gw: gateway4 }],
      dns: {},
    };
    this.base = { containerId, netns, ifname: "eth0", config, prevResult };
    this.context.prevResult = prevResult;
  }

  /** Deletes the container namespaces made since the last call, but not the shared one. */
  releaseContainers(): void {
    const done = this.containers.filter((name) => join(NETNS_DIR, name) !== this.sharedContainer);
    this.run.deleteNamespaces(done);
    this.containers.splice(0, this.containers.length, ...this.containers.filter((name) => !done.includes(name)));
  }

  async destroy(): Promise<void> {
    await this.stopDaemon();
    if (this.base) {
      const { containerId, netns, ifname, config } = this.base;
      await this.call("bridge", this.env("DEL", containerId, netns, ifname), Buffer.from(config), 30_000);
    }
    this.run.deleteNamespaces([...this.containers, this.host]);
    this.containers.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
