import { z } from "zod";
import { CniError, ErrorCode, lazy } from "../../core/index.ts";
import { toolFailed, type ToolExecutor } from "../exec.ts";
import { describeRule } from "./expr.ts";
import { nftTableExists } from "./exists.ts";

// Built on first use: most processes that load the firewall code never list an nftables table
// (~0.4 ms of start-up otherwise).
const chainSchema = lazy(() =>
  z.object({
    name: z.string(),
    type: z.string().optional(),
    hook: z.string().optional(),
    prio: z.number().optional(),
  }),
);

const ruleSchema = lazy(() =>
  z.object({
    chain: z.string(),
    handle: z.number(),
    comment: z.string().optional(),
    expr: z.array(z.unknown()),
  }),
);

/** `nft -j list`: a list of one-key objects ({"chain": ...}, {"rule": ...}, {"metainfo": ...}). */
const listingSchema = lazy(() => z.object({ nftables: z.array(z.record(z.string(), z.unknown())) }));

export type NftChain = z.infer<ReturnType<typeof chainSchema>>;

export interface NftRule {
  chain: string;
  handle: number;
  comment: string | undefined;
  /** The rule in nft syntax, comment left out (see describeRule). */
  text: string;
}

/** One nftables table as `nft -j list table` showed it. */
export class NftTable {
  constructor(
    private readonly chains: ReadonlyMap<string, NftChain>,
    private readonly allRules: readonly NftRule[],
  ) {}

  chain(name: string): NftChain | undefined {
    return this.chains.get(name);
  }

  /** The chain's rules in order. */
  rules(chain: string): NftRule[] {
    return this.allRules.filter((rule) => rule.chain === chain);
  }
}

/** Lists a table with `nft -j list table`; undefined when there is no such table. */
export function readNftTable(executor: ToolExecutor, family: string, table: string): NftTable | undefined {
  // nft would run where this process is: the kernel can say "no such table" without it.
  if (executor.local && nftTableExists(family, table) === false) return undefined;
  const args = ["-j", "list", "table", family, table];
  const output = executor.run("nft", args);
  if (output.status !== 0) {
    if (output.status === 1 && /No such file or directory/.test(output.stderr)) return undefined;
    throw toolFailed("nft", args, output);
  }
  return parseNftListing(output.stdout);
}

export function parseNftListing(json: string): NftTable {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new CniError(ErrorCode.FirewallFailed, `nft -j printed something that is not JSON: ${(error as Error).message}`);
  }
  const chains = new Map<string, NftChain>();
  const rules: NftRule[] = [];
  for (const entry of expectShape(listingSchema(), raw, "listing").nftables) {
    if (entry.chain !== undefined) {
      const chain = expectShape(chainSchema(), entry.chain, "chain");
      chains.set(chain.name, chain);
    } else if (entry.rule !== undefined) {
      const rule = expectShape(ruleSchema(), entry.rule, "rule");
      rules.push({ chain: rule.chain, handle: rule.handle, comment: rule.comment, text: describeRule(rule.expr) });
    }
  }
  return new NftTable(chains, rules);
}

function expectShape<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new CniError(
    ErrorCode.FirewallFailed,
    `nft -j printed a ${what} of an unexpected shape (${issue?.path.join(".") || "top level"}: ${issue?.message})`,
  );
}
