import { applyScript, type ToolExecutor } from "../exec.ts";

/** A base chain's hook into the packet path; regular chains have none. */
export interface NftHook {
  type: "nat" | "filter" | "route";
  hook: "prerouting" | "input" | "forward" | "output" | "postrouting";
  /** Numeric, as `nft -j list` reports it (srcnat = 100, dstnat = -100, filter = 0). */
  priority: number;
}

export interface NftChainSpec {
  name: string;
  hook?: NftHook;
  comment?: string;
}

/**
 * Commands for one nftables table, applied with one `nft -f -`: nft runs a file as one
 * transaction, so either every command takes effect or none does.
 */
export class NftScript {
  private readonly lines: string[] = [];

  constructor(
    readonly family: "ip" | "ip6" | "inet" | "bridge",
    readonly table: string,
  ) {}

  /** Creates the table unless it exists ("add" is idempotent for tables and chains). */
  addTable(comment?: string): this {
    this.lines.push(`add table ${this.family} ${this.table}${block(comment === undefined ? [] : [`comment ${quote(comment)}`])}`);
    return this;
  }

  addChain(chain: NftChainSpec): this {
    const properties = [
      ...(chain.hook ? [`type ${chain.hook.type} hook ${chain.hook.hook} priority ${chain.hook.priority}`] : []),
      ...(chain.comment === undefined ? [] : [`comment ${quote(chain.comment)}`]),
    ];
    this.lines.push(`add chain ${this.prefix()} ${chain.name}${block(properties)}`);
    return this;
  }

  flushChain(chain: string): this {
    this.lines.push(`flush chain ${this.prefix()} ${chain}`);
    return this;
  }

  /** Deletes a regular chain (with its rules); nothing may jump to it any more. */
  deleteChain(chain: string): this {
    this.lines.push(`delete chain ${this.prefix()} ${chain}`);
    return this;
  }

  /** Appends a rule; `rule` is nft syntax ("ip saddr == 10.1.2.3 masquerade"). */
  addRule(chain: string, rule: string, comment?: string): this {
    this.lines.push(`add rule ${this.prefix()} ${chain} ${rule}${comment === undefined ? "" : ` comment ${quote(comment)}`}`);
    return this;
  }

  /** Deletes a rule by the handle `nft -j list` reported for it. */
  deleteRule(chain: string, handle: number): this {
    this.lines.push(`delete rule ${this.prefix()} ${chain} handle ${handle}`);
    return this;
  }

  get isEmpty(): boolean {
    return this.lines.length === 0;
  }

  text(): string {
    return this.lines.map((line) => `${line}\n`).join("");
  }

  private prefix(): string {
    return `${this.family} ${this.table}`;
  }
}

/** Runs a script with one `nft -f -`; nothing runs for an empty one. */
export function applyNft(executor: ToolExecutor, script: NftScript): void {
  if (script.isEmpty) return;
  applyScript(executor, "nft", ["-f", "-"], script.text());
}

function block(properties: string[]): string {
  return properties.length === 0 ? "" : ` { ${properties.map((property) => `${property} ;`).join(" ")} }`;
}

/**
 * nft's quoted strings know no escapes: a double quote or a line break cannot be carried, so
 * callers remove them first (as the reference does with the names in its comments).
 */
function quote(text: string): string {
  if (/["\n]/.test(text)) throw new Error(`nft string ${JSON.stringify(text)} contains a double quote or a line break`);
  return `"${text}"`;
}
