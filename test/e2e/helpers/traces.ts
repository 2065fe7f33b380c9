import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** What plugins leave on the host for an attachment, read back to check ADD and DEL. */

/**
 * The directory our host-local keeps beside the leases of a network (plugins/host-local/README.md);
 * the reference plugin keeps none, so it shows which host-local a runtime ran.
 */
export const OWNER_INDEX = ".cni-ts-index";

/** The addresses leased in a host-local data directory (one file named after each address). */
export function leasedAddresses(dataDir: string): string[] {
  if (!existsSync(dataDir)) return [];
  return readdirSync(dataDir).filter((name) => /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.includes(":"));
}

/** True when `text` names the IPv4 `address` as a whole (10.1.2.3 does not name 10.1.2.34). */
function mentionsAddress(text: string, address: string): boolean {
  const escaped = address.replace(/\./g, "\\.");
  return new RegExp(`(?<![\\d.])${escaped}(?!\\d|\\.\\d)`).test(text);
}

/** Lines of the host's iptables, ip6tables and nftables rule sets that name any of `ids` or `addresses`. */
export function firewallLinesMentioning(ids: string[], addresses: string[]): string[] {
  const dumps = [["iptables-save"], ["ip6tables-save"], ["nft", "list", "ruleset"]];
  const lines: string[] = [];
  for (const [command, ...args] of dumps) {
    const proc = spawnSync(command!, args, { encoding: "utf8" });
    if (proc.status !== 0) continue; // a tool or table family not present: nothing of ours there either
    for (const line of proc.stdout.split("\n")) {
      if (ids.some((id) => line.includes(id)) || addresses.some((address) => mentionsAddress(line, address))) {
        lines.push(`${command}: ${line.trim()}`);
      }
    }
  }
  return lines;
}

/** Entries of `dir` whose names contain `needle` (none when the directory does not exist). */
function entriesNaming(dir: string, needle: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => name.includes(needle)).map((name) => join(dir, name));
}

/** Names of the host's links whose master is `bridge` (its ports). */
export function bridgePorts(bridge: string): string[] {
  const proc = spawnSync("ip", ["-j", "link", "show", "master", bridge], { encoding: "utf8" });
  if (proc.status !== 0) return [];
  return (JSON.parse(proc.stdout || "[]") as Array<{ ifname: string }>).map((link) => link.ifname);
}
/** libcni's result cache (podman's CNI backend and containerd's go-cni use the default). */
const RESULT_CACHE_DIR = "/var/lib/cni/results";
/** The tuning plugin's default dataDir: a container's original link settings until DEL. */
const TUNING_DIR = "/run/cni/tuning";

/** An attachment as the host sees it, to look for what its DEL should have removed. */
export interface AttachmentOnHost {
  containerId: string;
  address: string;
  /** host-local's directory of the network's leases. */
  leaseDir: string;
  bridge: string;
  /** The container's namespace file. */
  netns: string;
}

/**
 * What is left on the host of an attachment after its DEL, by kind; `{}` when nothing is: the
 * bridge's ports, leases, firewall rules naming the container or its address, cached results,
 * tuning's saved settings, the namespace file.
 */
export function leftoversOf(attachment: AttachmentOnHost): Record<string, string[]> {
  const found: Record<string, string[]> = {
    "bridge ports": bridgePorts(attachment.bridge),
    leases: leasedAddresses(attachment.leaseDir),
    "firewall rules": firewallLinesMentioning([attachment.containerId], [attachment.address]),
    "cached results": entriesNaming(RESULT_CACHE_DIR, attachment.containerId),
    "tuning state": entriesNaming(TUNING_DIR, attachment.containerId),
    "namespace file": existsSync(attachment.netns) ? [attachment.netns] : [],
  };
  return Object.fromEntries(Object.entries(found).filter(([, traces]) => traces.length > 0));
}
