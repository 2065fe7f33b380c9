import type { Rtnetlink } from "../../lib/netlink/index.ts";
import { RT_TABLE_UNSPEC } from "../../lib/netlink/index.ts";

/** Where the reference starts looking for a free table. */
export const FIRST_TABLE = 100;

/** Tables some rule looks up or some route lives in, of either family. */
export function tablesInUse(nl: Rtnetlink): Set<number> {
  const used = new Set<number>();
  for (const rule of [...nl.rules(4), ...nl.rules(6)]) used.add(rule.table);
  for (const route of nl.routes({ table: RT_TABLE_UNSPEC })) used.add(route.table);
  return used;
}

/** The first table from `from` that no rule and no route uses. */
export function firstFreeTable(used: ReadonlySet<number>, from: number): number {
  let table = from;
  while (used.has(table)) table++;
  return table;
}
