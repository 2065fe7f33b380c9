import { applyScript, type ToolExecutor } from "../exec.ts";
import type { IptablesTools } from "./family.ts";
import { formatArgs, type RuleArgs } from "./rule.ts";

/**
 * Seconds iptables-restore waits for the xtables lock that other iptables users (kube-proxy,
 * firewalld, other plugins) hold while they write; iptables-nft has no lock and ignores it.
 */
const XTABLES_LOCK_WAIT_SECONDS = "30";

/**
 * The changes to one table, written as iptables-restore input and applied with --noflush as
 * one atomic commit: everything in it happens, or nothing does.
 */
export class RestoreScript {
  private readonly lines: string[] = [];

  constructor(readonly table: string) {}

  /** Creates the chain, or empties it when it exists (iptables-restore does that for ":chain"). */
  declareChain(chain: string): this {
    this.lines.push(`:${chain} - [0:0]`);
    return this;
  }

  /**
   * Creates a chain that must not exist yet: unlike declareChain it never empties one, so when
   * another process created the chain since the table was read, the commit fails instead of
   * wiping that process's rules (the caller then reads again and retries).
   */
  createChain(chain: string): this {
    this.lines.push(`-N ${chain}`);
    return this;
  }

  append(chain: string, args: RuleArgs): this {
    this.lines.push(`-A ${chain} ${formatArgs(args)}`);
    return this;
  }

  /** Puts the rule first in the chain, ahead of rules other tools append. */
  insertFirst(chain: string, args: RuleArgs): this {
    this.lines.push(`-I ${chain} 1 ${formatArgs(args)}`);
    return this;
  }

  /** Deletes the first rule with exactly these arguments; the commit fails if there is none. */
  delete(chain: string, args: RuleArgs): this {
    this.lines.push(`-D ${chain} ${formatArgs(args)}`);
    return this;
  }

  flushChain(chain: string): this {
    this.lines.push(`-F ${chain}`);
    return this;
  }

  /** Deletes an empty chain nothing refers to any more. */
  deleteChain(chain: string): this {
    this.lines.push(`-X ${chain}`);
    return this;
  }

  get isEmpty(): boolean {
    return this.lines.length === 0;
  }

  text(): string {
    return [`*${this.table}`, ...this.lines, "COMMIT", ""].join("\n");
  }
}

/** Applies a script with one iptables-restore (or ip6tables-restore) run; nothing runs for an empty one. */
export function applyRestore(executor: ToolExecutor, tools: IptablesTools, script: RestoreScript): void {
  if (script.isEmpty) return;
  applyScript(executor, tools.restore, ["-w", XTABLES_LOCK_WAIT_SECONDS, "--noflush"], script.text());
}
