/**
 * The dhcp tests' world: a "LAN" network namespace with a bridge that carries the LAN's
 * gateway address and a DHCP server (dnsmasq, or a scripted one) bound to that bridge only;
 * containers attached to the bridge by a main plugin that runs inside the LAN namespace (so
 * the bridge and the host ends of the veths live there, never on this host's interfaces); and
 * the dhcp daemon under test, the compiled executable, on a socket in a temporary directory.
 * Everything is removed by `close()`, also after a failed test.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { callPlugin, type PluginCall, type PluginOutcome } from "../../helpers/cni.ts";
import { createNetns, ipJson, type TestNetns } from "../../helpers/netns.ts";
import { OUR_BIN, REFERENCE_BIN } from "../../helpers/paths.ts";
import { randomSubnets, uniqueName } from "../../helpers/tag.ts";

/** Polls `check` until it returns a value other than undefined/false, for at most `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what}`);
    await sleep(100);
  }
}

/** One line of dnsmasq's lease file. */
export interface DnsmasqLease {
  expires: number;
  mac: string;
  address: string;
  hostname: string;
  clientId: string;
}

export interface LanOptions {
  /** dnsmasq's lease time (its minimum is 2 minutes). */
  leaseTime?: string;
  /** More `--dhcp-option=` values (T1 is option:T1, classless routes 121, ...), given the LAN. */
  dhcpOptions?: (lan: Lan) => string[];
  /** No DHCP server at all: a LAN whose server never answers. */
  withoutServer?: boolean;
  /** A scripted server instead of dnsmasq (fake-server.ts), in one of its modes. */
  fakeServer?: FakeServerMode;
}

export type FakeServerMode = "malformed" | "no-mask" | "vanishing" | "nak-on-renew";

export class Lan {
  readonly netns: TestNetns = createNetns("dhl");
  readonly bridge = uniqueName("dhbr");
  readonly prefix = randomSubnets().v4Prefix;
  readonly gateway = `${this.prefix}.1`;
  readonly dir = mkdtempSync(join(tmpdir(), "dhcp-lan-"));
  readonly leaseFile = join(this.dir, "dnsmasq.leases");
  readonly logFile = join(this.dir, "server.log");
  private server: ChildProcess | undefined;
  private macvlanMasterName: string | undefined;

  constructor(options: LanOptions = {}) {
    const ip = (...args: string[]) => this.netns.exec(["ip", ...args]);
    ip("link", "set", "lo", "up");
    ip("link", "add", this.bridge, "type", "bridge");
    ip("addr", "add", `${this.gateway}/24`, "dev", this.bridge);
    ip("link", "set", this.bridge, "up");
    if (options.withoutServer) return;
    if (options.fakeServer) {
      this.server = this.start(["ip", "netns", "exec", this.netns.name, join(process.cwd(), "node_modules/.bin/bun"), join(import.meta.dirname, "fake-server.ts"), options.fakeServer, this.gateway, `${this.prefix}.50`]);
      return;
    }
    this.server = this.start([
      "ip", "netns", "exec", this.netns.name,
      "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0", "--no-ping", "--log-dhcp",
      `--interface=${this.bridge}`, "--bind-interfaces",
      `--dhcp-range=${this.prefix}.100,${this.prefix}.199,255.255.255.0,${options.leaseTime ?? "2m"}`,
      `--dhcp-leasefile=${this.leaseFile}`, `--log-facility=${this.logFile}`,
      ...(options.dhcpOptions?.(this) ?? []).map((option) => `--dhcp-option=${option}`),
    ]);
  }

  private start(command: string[]): ChildProcess {
    const log = openSync(join(this.dir, "server.out"), "a");
    try {
      return spawn(command[0]!, command.slice(1), { stdio: ["ignore", log, log], env: { ...process.env, FAKE_SERVER_DIR: this.dir } });
    } finally {
      closeSync(log);
    }
  }

  /**
   * The master for macvlan containers: one end of a veth pair in the LAN namespace whose other
   * end is a port of the bridge, so their frames reach the bridge and the server. Made on first
   * use; it goes with the namespace.
   */
  macvlanMaster(): string {
    if (this.macvlanMasterName) return this.macvlanMasterName;
    const master = uniqueName("mvdm");
    const port = `${master}p`;
    const ip = (...args: string[]) => this.netns.exec(["ip", ...args]);
    ip("link", "add", master, "type", "veth", "peer", "name", port);
    ip("link", "set", port, "master", this.bridge);
    ip("link", "set", port, "up");
    ip("link", "set", master, "up");
    this.macvlanMasterName = master;
    return master;
  }

  /** Waits until the server is ready to answer. */
  async ready(): Promise<void> {
    if (!this.server) return;
    await waitFor("the DHCP server to start", () => existsSync(this.logFile) && /DHCP, sockets bound|fake server ready/.test(readFileSync(this.logFile, "utf8")), 10_000);
  }

  leases(): DnsmasqLease[] {
    if (!existsSync(this.leaseFile)) return [];
    return readFileSync(this.leaseFile, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => {
        const [expires, mac, address, hostname, clientId] = line.split(" ");
        return { expires: Number(expires), mac: mac!, address: address!, hostname: hostname!, clientId: clientId! };
      });
  }

  /** The server's log: dnsmasq's (with --log-dhcp) or the fake server's event lines. */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, "utf8") : "";
  }

  /** dnsmasq's log lines about one client (by MAC), in order: DHCPDISCOVER, DHCPOFFER, ... */
  exchanges(mac: string): string[] {
    return this.log()
      .split("\n")
      .filter((line) => line.includes(mac) && /DHCP[A-Z]+\(/.test(line));
  }

  async close(): Promise<void> {
    if (this.server && this.server.exitCode === null) {
      const exited = new Promise((resolve) => this.server!.once("exit", resolve));
      this.server.kill("SIGTERM");
      await Promise.race([exited, sleep(5000)]);
    }
    this.netns.remove();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface DaemonOptions {
  /** The reference daemon (/usr/lib/cni/dhcp) instead of ours. */
  reference?: boolean;
  flags?: string[];
}

/** A dhcp daemon run by the test: ours (the compiled executable) or the reference's. */
export class Daemon {
  readonly dir = mkdtempSync(join(tmpdir(), "dhcp-daemon-"));
  readonly socketPath = join(this.dir, "dhcp.sock");
  readonly logFile = join(this.dir, "daemon.log");
  readonly process: ChildProcess;

  constructor(readonly options: DaemonOptions = {}) {
    const executable = options.reference ? join(REFERENCE_BIN, "dhcp") : join(OUR_BIN, "dhcp");
    const log = openSync(this.logFile, "a");
    try {
      this.process = spawn(executable, ["daemon", "-socketpath", this.socketPath, ...(options.flags ?? [])], { stdio: ["ignore", log, log] });
    } finally {
      closeSync(log);
    }
  }

  async ready(): Promise<void> {
    await waitFor(`the dhcp daemon's socket ${this.socketPath}`, () => existsSync(this.socketPath) || this.process.exitCode !== null, 10_000);
    if (this.process.exitCode !== null) throw new Error(`the dhcp daemon exited with ${this.process.exitCode}: ${this.log()}`);
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, "utf8") : "";
  }

  /** Sends SIGTERM and waits for the exit; returns the exit code (SIGKILL after 10 s). */
  async stop(): Promise<number | null> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return this.process.exitCode;
    const exited = new Promise<number | null>((resolve) => this.process.once("exit", (code) => resolve(code)));
    this.process.kill("SIGTERM");
    const code = await Promise.race([exited, sleep(10_000).then(() => "timeout" as const)]);
    if (code !== "timeout") return code;
    this.process.kill("SIGKILL");
    await exited;
    throw new Error("the dhcp daemon did not exit within 10 s of SIGTERM");
  }

  async close(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The main plugins a container can join the LAN with. */
export type MainPlugin = "bridge" | "macvlan";

/**
 * A container on the LAN: its own namespace, attached by a main plugin with `ipam: dhcp`: a
 * port of the LAN's bridge (bridge), or a macvlan on the LAN's macvlan master (macvlan). The
 * main plugin runs inside the LAN namespace, where the bridge is.
 */
export class Container {
  readonly netns: TestNetns = createNetns("dhc");
  readonly id = uniqueName("dhid");

  constructor(
    readonly lan: Lan,
    readonly network = uniqueName("dhnet"),
    readonly plugin: MainPlugin = "bridge",
  ) {}

  config(ipam: Record<string, unknown>, options: { cniVersion?: string } = {}): Record<string, unknown> {
    const attachment =
      this.plugin === "macvlan"
        ? { type: "macvlan", master: this.lan.macvlanMaster() }
        : { type: "bridge", bridge: this.lan.bridge, isGateway: false, ipMasq: false };
    return { cniVersion: options.cniVersion ?? "1.0.0", name: this.network, ...attachment, ipam: { type: "dhcp", ...ipam } };
  }

  /**
   * Runs the main plugin (ours) for this container. `cniPath` decides which dhcp plugin it
   * delegates to: ours by default.
   */
  call(command: PluginCall["command"], config: Record<string, unknown>, options: { args?: string; cniPath?: string } = {}): PluginOutcome {
    return callPlugin(join(OUR_BIN, this.plugin), { command, containerId: this.id, netns: this.netns.path, ifname: "eth0", config, args: options.args, host: this.lan.netns.name, path: options.cniPath });
  }

  mac(): string {
    return ipJson<{ address: string }[]>(["link", "show", "dev", "eth0"], this.netns.name)[0]!.address;
  }

  addresses(): string[] {
    const links = ipJson<{ addr_info: { family: string; local: string; prefixlen: number }[] }[]>(["addr", "show", "dev", "eth0"], this.netns.name);
    return (links[0]?.addr_info ?? []).filter((info) => info.family === "inet").map((info) => `${info.local}/${info.prefixlen}`);
  }

  routes(): { dst: string; gateway?: string; scope?: string; dev?: string }[] {
    return ipJson(["-4", "route", "show"], this.netns.name);
  }

  remove(): void {
    this.netns.remove();
  }
}

/** A CNI_PATH directory in which `dhcp` is the reference's plugin. */
export function pathWithReferenceDhcp(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "dhcp-refpath-"));
  symlinkSync(join(REFERENCE_BIN, "dhcp"), join(path, "dhcp"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
