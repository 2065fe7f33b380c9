import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { TestNetns } from "../helpers/netns.ts";

/**
 * What the differential tests of the veth plugins (bridge, ptp) observe in the same way on both
 * suites: the result, the host-local files and the container's nat rules.
 */

/** MACs and the random host veth name differ run to run by design; the rest must match. */
export function normalizeResult(result: unknown, netns: TestNetns): unknown {
  const text = JSON.stringify(result)
    .replace(/"([0-9a-f]{2}:){5}[0-9a-f]{2}"/g, '"<mac>"')
    .replace(/veth[0-9a-f]{8}/g, "<veth>")
    .replaceAll(netns.path, "<netns>");
  return JSON.parse(text);
}

/** The host-local store of one network: each file's content by name. */
export function leaseFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names) {
    // Our index lives in a dot-directory the reference never reads as a lease.
    if (name.startsWith(".") || statSync(join(dir, name)).isDirectory()) continue;
    files[name] = readFileSync(join(dir, name), "utf8");
  }
  return files;
}

/** This container's nat rules (they carry its ID in their comment) and the chains they jump to. */
export function natRules(containerId: string): string[] {
  return ["iptables-save", "ip6tables-save"].flatMap((tool) => {
    const lines = execFileSync(tool, ["-t", "nat"], { encoding: "utf8" }).split("\n");
    const rules = lines.filter((line) => line.includes(containerId));
    const chains = new Set(rules.flatMap((rule) => [...rule.matchAll(/-j (CNI-[0-9a-f]+)/g)].map((match) => match[1]!)));
    const declarations = lines.filter((line) => chains.has(line.slice(1).split(" ")[0]!)).map((line) => line.split(" ")[0]!);
    return [...declarations, ...rules];
  });
}
