import { z } from "zod";
import { IPAddress } from "../../lib/ip/index.ts";
import { type ConfigContext, invalidConfig, netConfSchema, parseWithSchema, type NetConf } from "../../lib/skel/index.ts";

/**
 * sbr's configuration: the schema of what users write (exported for JSON Schema generation) and
 * its resolution into typed values, with the reference's rules for `gateways`.
 */

export const sbrConfigSchema = netConfSchema.extend({
  table: z
    .number()
    .int("must be a whole number")
    .min(1, "must be a routing table id from 1")
    .max(2 ** 32 - 1, `must be at most ${2 ** 32 - 1}`)
    .nullish()
    .describe(
      "Routing table for the rules. Set, only the rules are added (the table's routes are yours); unset, each address gets the first free table from 100 and the interface's routes move there",
    ),
  gateways: z
    .array(z.string())
    .nullish()
    .describe("At most one IPv4 and one IPv6 gateway for the tables' default routes, used instead of prevResult's gateways"),
  addSourceHints: z
    .boolean()
    .nullish()
    .describe("Keep the subnet routes in the main table with the address as preferred source, so traffic without a chosen source still works"),
});

/** The configuration as every command works with it. */
export interface SbrConfig extends NetConf {
  /** A table the user manages; undefined: sbr picks tables and moves the routes itself. */
  table?: number;
  /** Static default gateways by family, from `gateways`. */
  gateways: { 4?: IPAddress; 6?: IPAddress };
  addSourceHints: boolean;
}

export function parseSbrConfig(raw: Record<string, unknown>, context: Pick<ConfigContext, "command">): SbrConfig {
  if (context.command === "DEL") return parseForDel(raw);
  const input = parseWithSchema(sbrConfigSchema, raw);
  const { cniVersion, name, type } = input;
  return {
    cniVersion,
    name,
    type,
    ...(input.table != null && { table: input.table }),
    gateways: parseGateways(input.gateways ?? []),
    addSourceHints: input.addSourceHints ?? false,
  };
}

/**
 * DEL needs only `table` (which rules to look at); the reference checks `gateways` on ADD alone,
 * so a DEL must not fail on them, and a table it could not have used selects nothing.
 */
function parseForDel(raw: Record<string, unknown>): SbrConfig {
  const { cniVersion, name, type } = parseWithSchema(netConfSchema, raw);
  const table = sbrConfigSchema.shape.table.safeParse(findKey(raw, "table"));
  return { cniVersion, name, type, ...(table.success && table.data != null && { table: table.data }), gateways: {}, addSourceHints: false };
}

function findKey(raw: Record<string, unknown>, key: string): unknown {
  const found = Object.keys(raw).find((candidate) => candidate.toLowerCase() === key);
  return found === undefined ? undefined : raw[found];
}

function parseGateways(texts: string[]): SbrConfig["gateways"] {
  if (texts.length > 2) throw invalidConfig("gateways", texts, "at most two gateways: one IPv4 and one IPv6");
  const gateways: SbrConfig["gateways"] = {};
  texts.forEach((text, index) => {
    const address = IPAddress.tryParse(text);
    if (!address) throw invalidConfig(`gateways[${index}]`, text, "not an IP address");
    const taken = gateways[address.family];
    if (taken) throw invalidConfig("gateways", texts, `two IPv${address.family} gateways (${taken} and ${address}): give one per family`);
    gateways[address.family] = address;
  });
  return gateways;
}
