import { spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { callPlugin, type PluginCall, type PluginOutcome } from "../../helpers/cni.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { OUR_BIN, REFERENCE_BIN } from "../../helpers/paths.ts";
import { randomSubnets, uniqueName } from "../../helpers/tag.ts";

/** Our host-local and the reference's, for tests that run either or both. */
export const OURS = join(OUR_BIN, "host-local");
export const REFERENCE = join(REFERENCE_BIN, "host-local");

/**
 * One host-local test network: a temporary data directory, a namespace to pass as CNI_NETNS
 * (host-local never enters it, but the dispatcher checks that it exists and is not its own), a
 * unique network name and random subnets. `remove()` deletes all of it.
 */
export class HostLocalNetwork {
  readonly dataDir = mkdtempSync(join(tmpdir(), "hostlocal-it-"));
  readonly name = uniqueName("hl");
  readonly subnets = canonicalSubnets();
  readonly netns: TestNetns = createNetns("hln");

  get leaseDir(): string {
    return join(this.dataDir, this.name);
  }

  /** A configuration with dataDir and name filled in; `ipam` keys are merged over the defaults. */
  config(options: { cniVersion?: string; ipam?: object; top?: object } = {}): Record<string, unknown> {
    return {
      cniVersion: options.cniVersion ?? "1.0.0",
      name: this.name,
      type: "host-local",
      ...options.top,
      ipam: {
        type: "host-local",
        dataDir: this.dataDir,
        ranges: [[{ subnet: this.subnets.v4 }], [{ subnet: this.subnets.v6 }]],
        ...options.ipam,
      },
    };
  }

  /** Runs a plugin binary (ours by default) for container `containerId` on this network. */
  call(
    command: PluginCall["command"],
    config: object | string,
    options: { containerId?: string; ifname?: string; args?: string; binary?: string; env?: PluginCall["env"] } = {},
  ): PluginOutcome {
    return callPlugin(options.binary ?? OURS, this.callOf(command, config, options));
  }

  /** The same, asynchronously, so many can run at once. */
  callAsync(
    command: PluginCall["command"],
    config: object,
    options: { containerId?: string; ifname?: string; args?: string; binary?: string } = {},
  ): Promise<PluginOutcome> {
    const call = this.callOf(command, config, options);
    const binary = options.binary ?? OURS;
    return new Promise((resolve, reject) => {
      const env: Record<string, string> = { PATH: process.env.PATH ?? "", CNI_COMMAND: call.command, CNI_PATH: binary.slice(0, binary.lastIndexOf("/")) };
      for (const [key, value] of Object.entries({ CNI_CONTAINERID: call.containerId, CNI_NETNS: call.netns, CNI_IFNAME: call.ifname, CNI_ARGS: call.args })) {
        if (value !== undefined) env[key] = value;
      }
      const child = spawn(binary, [], { env });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("error", reject);
      child.on("close", (status) => {
        const text = stdout.trim();
        resolve({ status: status ?? -1, stdout: text, stderr, json: text ? JSON.parse(text) : undefined });
      });
      child.stdin.end(JSON.stringify(config));
    });
  }

  /** Lease files (address -> content) of this network in a data directory (its own by default). */
  leases(dataDir = this.dataDir): Record<string, string> {
    return Object.fromEntries(Object.entries(this.files(dataDir)).filter(([name]) => /^[0-9a-f.:]+$/.test(name)));
  }

  /** Every file of this network in a data directory with its content, except our owner index. */
  files(dataDir = this.dataDir): Record<string, string> {
    const dir = join(dataDir, this.name);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return {};
    }
    return Object.fromEntries(names.filter((name) => !name.startsWith(".")).map((name) => [name, readFileSync(join(dir, name), "latin1")]));
  }

  remove(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
    this.netns.remove();
  }

  private callOf(
    command: PluginCall["command"],
    config: object | string,
    options: { containerId?: string; ifname?: string; args?: string; env?: PluginCall["env"] },
  ): PluginCall {
    const attachment = command === "ADD" || command === "DEL" || command === "CHECK";
    return {
      command,
      config,
      containerId: attachment ? (options.containerId ?? "c1") : undefined,
      ifname: attachment ? (options.ifname ?? "eth0") : undefined,
      netns: attachment ? this.netns.path : undefined,
      args: options.args,
      env: options.env,
    };
  }
}

/**
 * randomSubnets(), with an IPv6 prefix already in the canonical form results use: groups
 * without leading zeros, none of them zero, so "<prefix>::2" is exactly what host-local prints.
 */
function canonicalSubnets(): ReturnType<typeof randomSubnets> {
  const { v4, v4Prefix } = randomSubnets();
  const group = () => (0x1000 + randomInt(0xf000)).toString(16);
  const v6Prefix = `fd${randomInt(16, 256).toString(16)}:${group()}:${group()}:${group()}`;
  return { v4, v4Prefix, v6: `${v6Prefix}::/64`, v6Prefix };
}

/** The address part of a result's "address/prefix". */
export function addressOf(cidr: string): string {
  return cidr.slice(0, cidr.indexOf("/"));
}
