import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandExecutor, type ToolExecutor } from "../../../lib/firewall/exec.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";

/** A namespace of the test's own, and an executor that runs every firewall tool inside it. */
export interface FirewallNetns {
  ns: TestNetns;
  executor: ToolExecutor;
  /** The rules of a table as iptables-save prints them: user chain declarations and -A lines. */
  iptablesRules(family: 4 | 6, table?: string): string[];
  /** `nft -j list table` of a table, or undefined when there is none. */
  nftTable(family: string, table: string): NftJsonObject[] | undefined;
  /** Runs a tool inside the namespace; throws with its stderr when it fails. */
  exec(command: string[]): string;
}

export type NftJsonObject = Record<string, Record<string, unknown>>;

export function createFirewallNetns(prefix = "fw"): FirewallNetns {
  const ns = createNetns(prefix);
  const executor = commandExecutor(["ip", "netns", "exec", ns.name]);
  const exec = (command: string[]): string => ns.exec(command);
  return {
    ns,
    executor,
    exec,
    iptablesRules(family, table = "nat") {
      const output = executor.run(family === 4 ? "iptables-save" : "ip6tables-save", ["-t", table]);
      if (output.status !== 0) throw new Error(`iptables-save failed: ${output.stderr}`);
      return output.stdout
        .split("\n")
        .filter((line) => line.startsWith("-A ") || (line.startsWith(":") && !/^:[A-Z]+ (ACCEPT|DROP)/.test(line)));
    },
    nftTable(family, table) {
      const output = executor.run("nft", ["-j", "list", "table", family, table]);
      if (output.status !== 0) {
        if (/No such file or directory/.test(output.stderr)) return undefined;
        throw new Error(`nft -j list table failed: ${output.stderr}`);
      }
      return (JSON.parse(output.stdout) as { nftables: NftJsonObject[] }).nftables;
    },
  };
}

/**
 * Makes the legacy iptables tools the ones found first on PATH (the executor looks tools up on
 * PATH), as on a host whose alternatives point at iptables-legacy. Returns the undo.
 */
export function preferLegacyIptables(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "fw-legacy-"));
  for (const tool of ["iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"]) {
    symlinkSync(`/usr/sbin/${tool.replace(/^(ip6?tables)/, "$1-legacy")}`, join(dir, tool));
  }
  const path = process.env.PATH;
  process.env.PATH = `${dir}:${path ?? ""}`;
  return () => {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  };
}
