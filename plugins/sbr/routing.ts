import type { Cidr, IPFamily } from "../../lib/ip/index.ts";
import { IPAddress } from "../../lib/ip/index.ts";
import { type Link, type NewRoute, type RouteEntry, type Rtnetlink, RT_SCOPE_LINK, RT_TABLE_MAIN } from "../../lib/netlink/index.ts";
import { log, type Rollback } from "../../lib/skel/index.ts";
import { type SourceAddress, sourcePrefix } from "./addresses.ts";
import type { SbrConfig } from "./config.ts";
import { FIRST_TABLE, firstFreeTable, tablesInUse } from "./tables.ts";

/**
 * Source-based routing for one interface: per address a rule `from <address> lookup <table>`.
 * With a configured table that is all (the user fills the table). Without one, each address
 * gets its own free table holding a default route via its gateway and the interface's routes
 * of its family, which then leave the main table.
 */
export function routeBySource(container: Rtnetlink, link: Link, addresses: SourceAddress[], config: SbrConfig, rollback: Rollback): void {
  if (config.table !== undefined) {
    for (const address of addresses) addRule(container, address.cidr, config.table, rollback);
    return;
  }
  const used = tablesInUse(container);
  const mainRoutes = container.routes({ index: link.index });
  let candidate = FIRST_TABLE;
  for (const address of addresses) {
    const table = firstFreeTable(used, candidate);
    used.add(table);
    candidate = table + 1;
    addRule(container, address.cidr, table, rollback);
    rollback.add(`routes of table ${table}`, () => deleteTableRoutes(container, table, link.index));
    const { family } = address.cidr;
    const staticGateway = config.gateways[family]?.toString();
    const gateway = staticGateway ?? address.gateway;
    if (gateway !== undefined) container.addRoute({ dst: defaultDestination(family), gateway, index: link.index, table });
    for (const route of mainRoutes.filter((route) => leadsFrom(route, address.cidr))) {
      // A configured gateway's default route stays the table's default.
      if (staticGateway !== undefined && route.dst === defaultDestination(family)) continue;
      // Replace: the default route just added may be among them.
      container.addRoute(inTable(route, table), "replace");
    }
  }
  const families = new Set(addresses.map((address) => address.cidr.family));
  const moved = mainRoutes.filter((route) => families.has(route.family));
  if (config.addSourceHints) keepSubnetRoutesWithHints(container, link, addresses, moved, rollback);
  else for (const route of moved) removeMainRoute(container, route, rollback);
}

/** Deletes the routes of an sbr table that go out of the interface (DEL, rollback). */
export function deleteTableRoutes(container: Rtnetlink, table: number, index: number): void {
  for (const route of container.routes({ table, index })) container.deleteRoute(route);
}

function addRule(container: Rtnetlink, cidr: Cidr, table: number, rollback: Rollback): void {
  const rule = { family: cidr.family, src: sourcePrefix(cidr), table };
  container.addRule(rule);
  rollback.add(`rule from ${rule.src} lookup ${table}`, () => container.deleteRule(rule));
}

/**
 * The reference's test for a main-table route that belongs to an address: its preferred source
 * or gateway is in the address's subnet, or it has neither (a route straight onto the link).
 * Unlike the reference, only routes of the address's own family: an IPv4 address does not take
 * the IPv6 link-local route (fe80::/64) out of the main table.
 */
function leadsFrom(route: RouteEntry, cidr: Cidr): boolean {
  if (route.family !== cidr.family) return false;
  if (route.src === undefined && route.gateway === undefined) return true;
  return [route.src, route.gateway].some((text) => text !== undefined && cidr.contains(IPAddress.parse(text)));
}

/** The same route in another table; flags are dropped, as the kernel refuses some on a copy. */
function inTable(route: RouteEntry, table: number): NewRoute {
  const { family: _family, onlink: _onlink, ...rest } = route;
  return { ...rest, table };
}

function defaultDestination(family: IPFamily): string {
  return family === 4 ? "0.0.0.0/0" : "::/0";
}

function removeMainRoute(container: Rtnetlink, route: RouteEntry, rollback: Rollback): void {
  container.deleteRoute(route);
  rollback.add(`main table route ${route.dst}`, () => container.addRoute(inTable(route, RT_TABLE_MAIN), "replace"));
}

/**
 * addSourceHints: each address's subnet stays reachable through the main table, with the
 * address as preferred source, and only the other routes (the gateways') leave it. As in the
 * reference, a hint or deletion that fails is logged and the rest goes on.
 */
function keepSubnetRoutesWithHints(container: Rtnetlink, link: Link, addresses: SourceAddress[], moved: RouteEntry[], rollback: Rollback): void {
  for (const { cidr } of addresses) {
    const route: NewRoute = { dst: cidr.withoutHostBits().toString(), src: cidr.address.toString(), index: link.index, table: RT_TABLE_MAIN, scope: RT_SCOPE_LINK };
    try {
      container.addRoute(route, "replace");
    } catch (error) {
      log(`sbr: could not add source hint ${route.src} to ${route.dst}: ${(error as Error).message}`);
    }
  }
  for (const route of moved.filter((route) => route.scope !== RT_SCOPE_LINK)) {
    try {
      removeMainRoute(container, route, rollback);
    } catch (error) {
      log(`sbr: could not delete ${route.dst} from the main table: ${(error as Error).message}`);
    }
  }
}
