/**
 * The host state a plugin could leave behind, as a flat map from item to value, taken inside a
 * batch's host namespace: links, addresses, routes, policy rules, qdiscs, iptables and
 * nftables rules, the sysctls under /proc/sys/net, and the files under the directories the
 * batch's configurations point at. Two snapshots are compared item by item; what was added or
 * changed and is not shared state by design (shared.ts) is residue.
 *
 * Volatile parts are left out so that an idle host compares equal to itself: link-local IPv6
 * addresses and routes (they come and go with their link, which is compared), counters, rule
 * handles, per-interface sysctl directories other than all/default (they go with their
 * interface), iptables-nft's own tables in the nft listing (iptables-save shows them).
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

export type Snapshot = Map<string, string>;

export interface SnapshotScope {
  /** The batch's host namespace. */
  netns: string;
  /** Directories whose files are part of the host state (data dirs of the batch). */
  dirs: readonly string[];
  /** Shared system directories (/run/cni/tuning, /var/lib/cni/networks) and what the names of the batch's own entries hold. */
  taggedDirs: readonly { dir: string; markers: readonly string[] }[];
}

const SCRIPT = `
echo @@ip4; printf 'link show\naddr show\nroute show table all\nrule show\n' | ip -j -d -batch -
echo @@ip6; printf 'route show table all\nrule show\n' | ip -6 -j -d -batch -
echo @@qdiscs; tc -j qdisc show
echo @@ipt4; iptables-save 2>/dev/null
echo @@ipt6; ip6tables-save 2>/dev/null
echo @@nft; nft list ruleset 2>/dev/null
echo @@sysctl; grep -rs . /proc/sys/net 2>/dev/null
echo @@end
`;

export async function takeSnapshot(scope: SnapshotScope): Promise<Snapshot> {
  const proc = Bun.spawn(["ip", "netns", "exec", scope.netns, "sh", "-c", SCRIPT], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (status !== 0 || !stdout.includes("@@end")) throw new Error(`snapshot of ${scope.netns} failed: ${stderr}`);
  const sections = splitSections(stdout);
  // `ip -batch` prints one JSON array per command, a line each.
  const ip4 = (sections.ip4 ?? "").split("\n");
  const ip6 = (sections.ip6 ?? "").split("\n");
  Object.assign(sections, { links: ip4[0], addrs: ip4[1], routes4: ip4[2], rules4: ip4[3], routes6: ip6[0], rules6: ip6[1] });
  const snapshot: Snapshot = new Map();
  const put = (key: string, value = "") => {
    let unique = key;
    for (let n = 2; snapshot.has(unique); n++) unique = `${key} #${n}`;
    snapshot.set(unique, value);
  };
  const linkNames = new Map<number, string>();
  for (const link of jsonArray(sections.links)) {
    const name = String(link.ifname);
    linkNames.set(Number(link.ifindex), name);
    const kind = (link.linkinfo as Record<string, unknown> | undefined)?.info_kind ?? "device";
    put(`link ${name}`, `${String(kind)}${link.master ? ` master ${String(link.master)}` : ""}`);
  }
  for (const link of jsonArray(sections.addrs)) {
    for (const address of (link.addr_info as Record<string, unknown>[] | undefined) ?? []) {
      if (address.scope === "link") continue;
      put(`addr ${String(link.ifname)} ${String(address.local)}/${String(address.prefixlen)}`);
    }
  }
  for (const [family, section] of [["4", sections.routes4], ["6", sections.routes6]] as const) {
    for (const route of jsonArray(section)) {
      const dst = String(route.dst);
      if (/^(fe80|ff00)::/.test(dst) || (route.type === "local" && /^fe80:/.test(dst))) continue;
      put(`route${family} ${String(route.table ?? "main")} ${String(route.type ?? "unicast")} ${dst} dev ${String(route.dev ?? "")} via ${String(route.gateway ?? "")}`);
    }
  }
  for (const [family, section] of [["4", sections.rules4], ["6", sections.rules6]] as const) {
    for (const rule of jsonArray(section)) put(`rule${family} ${JSON.stringify(rule)}`);
  }
  for (const qdisc of jsonArray(sections.qdiscs)) {
    if (qdisc.kind === "noqueue" || qdisc.kind === "noop") continue;
    put(`qdisc ${String(qdisc.dev)} ${String(qdisc.kind)} ${String(qdisc.handle)} parent ${String(qdisc.parent ?? "root")}`);
  }
  for (const [family, section] of [["4", sections.ipt4], ["6", sections.ipt6]] as const) {
    let table = "";
    for (const line of (section ?? "").split("\n")) {
      if (line.startsWith("*")) table = line.slice(1);
      else if (line.startsWith(":")) put(`ipt${family} ${table} chain ${line.slice(1).split(" ")[0]}`);
      else if (line.startsWith("-A ")) put(`ipt${family} ${table} ${line}`);
    }
  }
  for (const item of nftItems(sections.nft ?? "")) put(item);
  for (const line of (sections.sysctl ?? "").split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const path = line.slice("/proc/sys/".length, colon);
    if (volatileSysctl(path)) continue;
    put(`sysctl ${path}`, line.slice(colon + 1));
  }
  for (const dir of scope.dirs) for (const file of walk(dir)) put(`file ${file}`);
  for (const { dir, markers } of scope.taggedDirs) {
    for (const entry of listEntries(dir)) {
      if (!markers.some((marker) => entry.name.includes(marker))) continue;
      const path = join(dir, entry.name);
      for (const file of entry.isDirectory() ? walk(path) : [path]) put(`file ${file}`);
    }
  }
  return snapshot;
}

export interface Difference {
  added: string[];
  changed: string[];
  removed: string[];
}

export function compareSnapshots(before: Snapshot, after: Snapshot): Difference {
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [key, value] of after) {
    if (!before.has(key)) added.push(key);
    else if (before.get(key) !== value) changed.push(`${key}: ${before.get(key)} -> ${value}`);
  }
  for (const key of before.keys()) if (!after.has(key)) removed.push(key);
  return { added, changed, removed };
}

export function isEmpty(difference: Difference): boolean {
  return difference.added.length === 0 && difference.changed.length === 0 && difference.removed.length === 0;
}

function splitSections(text: string): Record<string, string> {
  const sections: Record<string, string> = {};
  let name = "";
  let lines: string[] = [];
  for (const line of text.split("\n")) {
    const marker = /^@@(\w+)$/.exec(line);
    if (marker) {
      if (name) sections[name] = lines.join("\n");
      name = marker[1]!;
      lines = [];
    } else {
      lines.push(line);
    }
  }
  return sections;
}

function jsonArray(text: string | undefined): Record<string, unknown>[] {
  if (!text || text.trim() === "") return [];
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
  } catch {
    return [];
  }
}

/** iptables-nft's own tables, shown by iptables-save already. */
const IPTABLES_NFT_TABLE = /^table (ip|ip6) (filter|nat|mangle|raw|security) \{$/;

/** One item per nftables table, chain and rule outside iptables-nft's tables; handles and counters dropped. */
function nftItems(text: string): string[] {
  const items: string[] = [];
  let table = "";
  let chain = "";
  let skipping = false;
  let depth = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim().replace(/\s*# handle \d+$/, "").replace(/counter packets \d+ bytes \d+/, "counter");
    if (line === "") continue;
    if (line.endsWith("{")) {
      depth++;
      if (depth === 1) {
        table = line.slice(0, -2);
        skipping = IPTABLES_NFT_TABLE.test(line);
        if (!skipping) items.push(`nft ${table}`);
      } else if (depth === 2) {
        chain = line.slice(0, -2);
        if (!skipping) items.push(`nft ${table} ${chain}`);
      } else if (!skipping) {
        items.push(`nft ${table} ${chain} ${line}`);
      }
      continue;
    }
    if (line === "}") {
      depth--;
      continue;
    }
    if (!skipping && depth >= 2) items.push(`nft ${table} ${chain} ${line}`);
  }
  return items;
}

/** Per-interface sysctls go with their interface; counters change by themselves. */
function volatileSysctl(path: string): boolean {
  const perInterface = /^net\/(ipv4|ipv6)\/(conf|neigh)\/([^/]+)\//.exec(path);
  if (perInterface && perInterface[3] !== "all" && perInterface[3] !== "default") return true;
  return /nf_conntrack_count$|\/route\/flush$|^net\/core\/netdev_rss_key$/.test(path);
}

function walk(dir: string): string[] {
  const files: string[] = [];
  for (const entry of listEntries(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...walk(path));
    else files.push(path);
  }
  return files;
}

function listEntries(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
