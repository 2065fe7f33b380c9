/**
 * sbr: a chained plugin for source-based routing. For each address the plugin before it gave
 * CNI_IFNAME, a policy rule sends traffic from that address to its own routing table, which
 * holds the interface's routes, so replies leave by the interface their address belongs to.
 * The previous result passes through unchanged.
 */
import { Failures } from "../../lib/core/index.ts";
import { IPAddress } from "../../lib/ip/index.ts";
import { withAttachment, withDelAttachment } from "../../lib/link/index.ts";
import type { Rtnetlink } from "../../lib/netlink/index.ts";
import { CniError, ErrorCode, Rollback, definePlugin, invalidEnvironment, requirePrevResult } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { addressesOf, sourcePrefix } from "./addresses.ts";
import { withNamespaceLock } from "./lock.ts";
import { parseSbrConfig, sbrConfigSchema, type SbrConfig } from "./config.ts";
import { rulesFrom } from "./rules.ts";
import { deleteTableRoutes, routeBySource } from "./routing.ts";

const NEEDS_PREV_RESULT = "sbr is a chained plugin and routes by the addresses of the plugin before it";

export default definePlugin<SbrConfig>({
  name: "sbr",
  about: "CNI sbr plugin: source-based routing for an interface an earlier plugin configured",
  configSchema: sbrConfigSchema,
  parseConfig: parseSbrConfig,

  async add(request) {
    const prevResult = requirePrevResult(request, NEEDS_PREV_RESULT);
    const addresses = addressesOf(prevResult, request.ifname);
    await withNamespaceLock(request.netns, () =>
      withAttachment(request.netns, ({ container }) =>
        Rollback.guard(async (rollback) => {
          const link = container.linkByName(request.ifname);
          if (!link) throw invalidEnvironment("CNI_IFNAME", `no interface ${request.ifname} in ${request.netns}: sbr routes an interface an earlier plugin of the chain made`);
          routeBySource(container, link, addresses, request.config, rollback);
        }),
      ),
    );
    return prevResult;
  },

  async del(request) {
    // With the container gone its rules and tables went with it: the host holds nothing.
    await withDelAttachment(request.netns, ({ container }) => {
      if (container) removeSourceRouting(container, request.ifname, previousAddresses(request.prevResult, request.ifname), request.config);
    });
  },

  async check(request) {
    const prevResult = requirePrevResult(request, NEEDS_PREV_RESULT);
    const addresses = addressesOf(prevResult, request.ifname);
    await withAttachment(request.netns, ({ container }) => {
      const link = container.linkByName(request.ifname);
      if (!link) throw new CniError(ErrorCode.CheckFailed, `interface ${request.ifname} not found in ${request.netns}`);
      for (const { cidr } of addresses) {
        const [rule] = rulesFrom(container, [cidr.address], request.config.table);
        if (!rule) throw new CniError(ErrorCode.CheckFailed, `no rule from ${sourcePrefix(cidr)}${request.config.table === undefined ? "" : ` lookup ${request.config.table}`} in ${request.netns}`);
        if (request.config.table === undefined && container.routes({ table: rule.table, index: link.index }).length === 0) {
          throw new CniError(ErrorCode.CheckFailed, `table ${rule.table} of the rule from ${sourcePrefix(cidr)} has no route through ${request.ifname}`);
        }
      }
    });
  },
});

/** prevResult's addresses of the interface, when DEL got one. */
function previousAddresses(prevResult: Result | undefined, ifname: string): IPAddress[] {
  if (!prevResult?.ips?.length) return [];
  return addressesOf(prevResult, ifname).map(({ cidr }) => cidr.address);
}

/**
 * Deletes the rules from the interface's addresses (those it still has, and prevResult's), and
 * the routes through the interface in the tables they looked up when sbr chose those tables.
 */
function removeSourceRouting(container: Rtnetlink, ifname: string, fromPrevResult: IPAddress[], config: SbrConfig): void {
  const link = container.linkByName(ifname);
  const onLink = link ? container.addresses({ index: link.index }).map((address) => IPAddress.parse(address.address)) : [];
  const failures = new Failures();
  for (const rule of rulesFrom(container, [...onLink, ...fromPrevResult], config.table)) {
    failures.attempt(() => container.deleteRule(rule));
    if (link && config.table === undefined) failures.attempt(() => deleteTableRoutes(container, rule.table, link.index));
  }
  failures.throwIfAny(`sbr DEL of ${ifname}`);
}
