import { IPAddress } from "../../lib/ip/index.ts";
import type { Rtnetlink, Rule } from "../../lib/netlink/index.ts";

/**
 * The rules sbr made for these addresses: a source that is one of them (any prefix length, as
 * the reference compares only the address), looking up `table` when one is configured.
 */
export function rulesFrom(container: Rtnetlink, addresses: IPAddress[], table: number | undefined): Rule[] {
  return [...container.rules(4), ...container.rules(6)].filter((rule) => {
    if (rule.src === undefined || (table !== undefined && rule.table !== table)) return false;
    const source = IPAddress.parse(rule.src.slice(0, rule.src.indexOf("/")));
    return addresses.some((address) => address.equals(source));
  });
}
