import {
  AddressFormatError,
  type IpFamily,
  type Prefix,
  bytesToIp,
  formatPrefix,
  ipToBytes,
  parsePrefix,
} from "./addr-bytes.ts";
import { attr, withOptional } from "./attributes.ts";
import {
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_SCOPE_NOWHERE,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  RTA_DST,
  RTA_GATEWAY,
  RTA_METRICS,
  RTA_OIF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_TABLE,
  RTAX_ADVMSS,
  RTAX_MTU,
  RTM_DELROUTE,
  RTM_F_CLONED,
  RTM_GETROUTE,
  RTM_NEWROUTE,
  RTN_ANYCAST,
  RTN_BROADCAST,
  RTN_LOCAL,
  RTN_MULTICAST,
  RTN_NAT,
  RTN_UNICAST,
  RTN_UNSPEC,
  RTNH_F_ONLINK,
  RTPROT_BOOT,
  RTPROT_UNSPEC,
} from "./constants.ts";
import { addressFamily, ipFamilyOf, splitTableId } from "./family.ts";
import { rtmsg } from "./headers.ts";
import { type NetlinkMessage, type Request, decodeBody, request } from "./message.ts";

/** A route as the kernel reports it. */
export interface RouteEntry {
  family: IpFamily;
  /** Destination prefix; the default route is 0.0.0.0/0 or ::/0. */
  dst: string;
  gateway?: string;
  /** Output interface index (RTA_OIF). */
  index?: number;
  table: number;
  /** RT_SCOPE_* */
  scope: number;
  /** The metric (RTA_PRIORITY). */
  priority?: number;
  /** RTPROT_* (2 kernel, 3 boot, 4 static). */
  protocol: number;
  /** RTN_* (1 unicast, 2 local, ...). */
  type: number;
  /** Preferred source address (RTA_PREFSRC). */
  src?: string;
  mtu?: number;
  advmss?: number;
  onlink: boolean;
}

export interface NewRoute {
  dst: string;
  gateway?: string;
  index?: number;
  /** Default: main (254). Tables above 255 travel in RTA_TABLE. */
  table?: number;
  /** Default as `ip route add`: host for local routes, link without a gateway, universe with one. */
  scope?: number;
  priority?: number;
  /** Default: boot (3), as `ip route add`. */
  protocol?: number;
  /** Default: unicast. */
  type?: number;
  src?: string;
  mtu?: number;
  advmss?: number;
  /** Use the gateway even if it is not on the link's subnet (RTNH_F_ONLINK). */
  onlink?: boolean;
}

/**
 * What identifies a route to delete. Fields left out match any route; a RouteEntry from routes()
 * can be passed as it is.
 */
export type RouteSelector = Pick<
  NewRoute,
  "dst" | "gateway" | "index" | "table" | "priority" | "protocol" | "type" | "scope"
>;

/**
 * How addRoute treats a route with the same destination: `exclusive` (the default) fails with
 * EEXIST; `replace` overwrites it; `beside` keeps it and adds this one via its own next hop (IPv6
 * as an ECMP sibling), failing only on an identical route — the reference's RouteAddEcmp, which
 * lets two interfaces of one container each carry a default route.
 */
export type RouteAddMode = "exclusive" | "replace" | "beside";

const ROUTE_ADD_FLAGS: Record<RouteAddMode, number> = {
  exclusive: NLM_F_CREATE | NLM_F_EXCL,
  replace: NLM_F_CREATE | NLM_F_REPLACE,
  beside: NLM_F_CREATE,
};

export function addRouteRequest(route: NewRoute, mode: RouteAddMode = "exclusive"): Request {
  const type = route.type ?? RTN_UNICAST;
  return routeRequest(RTM_NEWROUTE, ROUTE_ADD_FLAGS[mode] | NLM_F_ACK, route, {
    protocol: route.protocol ?? RTPROT_BOOT,
    scope: route.scope ?? defaultScope(type, route.gateway !== undefined),
    type,
  });
}

export function deleteRouteRequest(route: RouteSelector): Request {
  // Only what identifies the route: metrics or flags given here would also have to match.
  const { dst, gateway, index, table, priority } = route;
  return routeRequest(RTM_DELROUTE, NLM_F_ACK, { dst, gateway, index, table, priority }, {
    // Zero protocol and type, and scope "nowhere", match any route (as `ip route del` sends).
    protocol: route.protocol ?? RTPROT_UNSPEC,
    scope: route.scope ?? RT_SCOPE_NOWHERE,
    type: route.type ?? RTN_UNSPEC,
  });
}

function routeRequest(
  type: number,
  flags: number,
  route: NewRoute,
  header: { protocol: number; scope: number; type: number },
): Request {
  const dst = parsePrefix(route.dst);
  const table = splitTableId(route.table ?? RT_TABLE_MAIN);
  const metrics = [attr.u32(RTAX_MTU, route.mtu), attr.u32(RTAX_ADVMSS, route.advmss)];
  return request(
    type,
    flags,
    rtmsg.encode({
      family: addressFamily(dst.family),
      dstLen: dst.prefixLength,
      table: table.inHeader,
      ...header,
      flags: route.onlink ? RTNH_F_ONLINK : 0,
    }),
    [
      // The default route (prefix length 0) needs no destination.
      attr.bytes(RTA_DST, dst.prefixLength > 0 ? dst.bytes : undefined),
      attr.bytes(RTA_GATEWAY, addressOf(route, dst, "gateway", route.gateway)),
      attr.u32(RTA_TABLE, table.inAttribute),
      attr.u32(RTA_PRIORITY, route.priority),
      attr.bytes(RTA_PREFSRC, addressOf(route, dst, "src", route.src)),
      attr.u32(RTA_OIF, route.index),
      metrics.some(Boolean) ? attr.nested(RTA_METRICS, metrics) : undefined,
    ],
  );
}

export function dumpRoutesRequest(family?: IpFamily): Request {
  return request(RTM_GETROUTE, NLM_F_DUMP, rtmsg.encode({ family: addressFamily(family) }));
}

/** Decodes an RTM_NEWROUTE message; undefined for other families and for cached (cloned) routes. */
export function decodeRoute(message: NetlinkMessage): RouteEntry | undefined {
  const { header, attributes } = decodeBody(message, rtmsg);
  const family = ipFamilyOf(header.family);
  if (family === undefined || header.flags & RTM_F_CLONED) return undefined;
  const dst = attributes.bytes(RTA_DST) ?? new Uint8Array(family === 4 ? 4 : 16);
  const gateway = attributes.bytes(RTA_GATEWAY);
  const src = attributes.bytes(RTA_PREFSRC);
  const metrics = attributes.nested(RTA_METRICS);
  const route: RouteEntry = {
    family,
    dst: formatPrefix(dst, header.dstLen),
    table: attributes.u32(RTA_TABLE) ?? header.table,
    scope: header.scope,
    protocol: header.protocol,
    type: header.type,
    onlink: (header.flags & RTNH_F_ONLINK) !== 0,
  };
  return withOptional(route, {
    gateway: gateway && bytesToIp(gateway),
    index: attributes.u32(RTA_OIF),
    priority: attributes.u32(RTA_PRIORITY),
    src: src && bytesToIp(src),
    mtu: metrics?.u32(RTAX_MTU),
    advmss: metrics?.u32(RTAX_ADVMSS),
  });
}

/** Words for error messages: "10.9.0.0/16 via 10.1.0.1 dev eth0 table 1000". */
export function describeRoute(route: RouteSelector, nameOf: (index: number) => string): string {
  const parts = [route.dst];
  if (route.gateway !== undefined) parts.push(`via ${route.gateway}`);
  if (route.index !== undefined) parts.push(`dev ${nameOf(route.index)}`);
  if (route.table !== undefined && route.table !== RT_TABLE_MAIN) parts.push(`table ${route.table}`);
  if (route.priority !== undefined) parts.push(`metric ${route.priority}`);
  return parts.join(" ");
}

function defaultScope(type: number, hasGateway: boolean): number {
  if (type === RTN_LOCAL || type === RTN_NAT) return RT_SCOPE_HOST;
  if (type === RTN_BROADCAST || type === RTN_MULTICAST || type === RTN_ANYCAST) return RT_SCOPE_LINK;
  if (type === RTN_UNICAST || type === RTN_UNSPEC) return hasGateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  return RT_SCOPE_UNIVERSE;
}

/** An address of the route's own family (a gateway or source of the other family needs RTA_VIA). */
function addressOf(route: RouteSelector, dst: Prefix, field: string, text: string | undefined): Uint8Array | undefined {
  if (text === undefined) return undefined;
  const bytes = ipToBytes(text);
  if (bytes.byteLength !== dst.bytes.byteLength) {
    throw new AddressFormatError(`route ${route.dst}: ${field} ${text} is not an IPv${dst.family} address`);
  }
  return bytes;
}
