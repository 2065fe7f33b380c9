/**
 * What a DHCPACK grants, read from its fields and options: the address and prefix, the gateway
 * (router option), the routes (classless static routes, option 121, which replace the router
 * and static-route options when present, RFC 3442; otherwise static routes, option 33, and a
 * default route via the router), and the lease's times.
 */
import { Cidr, IPAddress } from "../ip/index.ts";
import type { Route } from "../types/index.ts";
import { DhcpParseError, type DhcpMessage } from "./message.ts";
import { Option } from "./options.ts";

/** RT_SCOPE_LINK: a route whose next hop is 0.0.0.0 is on the link. */
const SCOPE_LINK = 253;
/** The reference's defaults when the server leaves the times out. */
const DEFAULT_LEASE_SECONDS = 3600;
const RENEW_FRACTION = 0.5;
const REBIND_FRACTION = 0.85;
/** Lease time 0xffffffff means the lease never ends (RFC 2131 3.3). */
export const INFINITE_LEASE = 0xffff_ffff;

export interface LeaseTerms {
  address: IPAddress;
  prefixLength: number;
  server: IPAddress;
  router?: IPAddress;
  routes: Route[];
  leaseSeconds: number;
  renewSeconds: number;
  rebindSeconds: number;
}

/** The ACK cannot be used (it is well-formed, but lacks what CNI needs). */
export class UnusableLease extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "UnusableLease";
  }
}

export function readLeaseTerms(ack: DhcpMessage, fallbackServer: IPAddress): LeaseTerms {
  const maskBytes = ack.options.get(Option.SubnetMask);
  if (!maskBytes) throw new UnusableLease(`the DHCPACK for ${ack.yiaddr} has no subnet mask (option 1)`);
  const prefixLength = maskLength(maskBytes, "subnet mask (option 1)");
  const server = optionalAddress(ack, Option.ServerIdentifier, "server identifier (option 54)") ?? fallbackServer;
  const router = addressList(ack, Option.Router, "router (option 3)")?.[0];
  const leaseSeconds = optionalU32(ack, Option.LeaseTime, "lease time (option 51)") ?? DEFAULT_LEASE_SECONDS;
  let renewSeconds = optionalU32(ack, Option.RenewalTime, "renewal time (option 58)") ?? Math.floor(leaseSeconds * RENEW_FRACTION);
  let rebindSeconds = optionalU32(ack, Option.RebindingTime, "rebinding time (option 59)") ?? Math.floor(leaseSeconds * REBIND_FRACTION);
  if (rebindSeconds > leaseSeconds) rebindSeconds = Math.floor(leaseSeconds * REBIND_FRACTION);
  if (renewSeconds > rebindSeconds) renewSeconds = Math.min(Math.floor(leaseSeconds * RENEW_FRACTION), rebindSeconds);
  return { address: ack.yiaddr, prefixLength, server, router, routes: readRoutes(ack, router), leaseSeconds, renewSeconds, rebindSeconds };
}

function readRoutes(ack: DhcpMessage, router: IPAddress | undefined): Route[] {
  const classless = ack.options.get(Option.ClasslessStaticRoutes);
  if (classless && classless.length > 0) return parseClasslessRoutes(classless);
  const routes = parseStaticRoutes(ack.options.get(Option.StaticRoutes));
  if (router) routes.push({ dst: "0.0.0.0/0", gw: router.toString() });
  return routes;
}

/**
 * Option 121 (RFC 3442): a list of (prefix length, the significant octets of the destination,
 * router). A router of 0.0.0.0 means the destination is on the link.
 */
export function parseClasslessRoutes(data: Uint8Array): Route[] {
  const routes: Route[] = [];
  let position = 0;
  while (position < data.length) {
    const width = data[position]!;
    if (width > 32) throw new DhcpParseError(`classless static route (option 121) with prefix length ${width}`);
    const octets = Math.ceil(width / 8);
    const end = position + 1 + octets + 4;
    if (end > data.length) throw new DhcpParseError(`classless static route (option 121) for /${width} is cut off after ${data.length - position} bytes`);
    const destination = new Uint8Array(4);
    destination.set(data.subarray(position + 1, position + 1 + octets));
    const dst = Cidr.of(IPAddress.fromBytes(destination), width).withoutHostBits();
    const gateway = IPAddress.fromBytes(data.subarray(position + 1 + octets, end));
    const route: Route = { dst: dst.toString(), gw: gateway.toString() };
    if (gateway.value === 0n) route.scope = SCOPE_LINK;
    routes.push(route);
    position = end;
  }
  return routes;
}

/** Option 33: (destination, router) pairs, each destination with its classful mask. */
function parseStaticRoutes(data: Uint8Array | undefined): Route[] {
  if (!data) return [];
  if (data.length % 8 !== 0) throw new DhcpParseError(`static routes (option 33) of ${data.length} bytes, not a multiple of 8`);
  const routes: Route[] = [];
  for (let position = 0; position < data.length; position += 8) {
    const destination = IPAddress.fromBytes(data.subarray(position, position + 4));
    const first = data[position]!;
    const classful = first < 128 ? 8 : first < 192 ? 16 : first < 224 ? 24 : undefined;
    if (classful === undefined) continue; // class D and E have no classful mask
    routes.push({ dst: Cidr.of(destination, classful).toString(), gw: IPAddress.fromBytes(data.subarray(position + 4, position + 8)).toString() });
  }
  return routes;
}

function maskLength(bytes: Uint8Array, what: string): number {
  if (bytes.length !== 4) throw new DhcpParseError(`${what} has ${bytes.length} bytes instead of 4`);
  const value = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
  const ones = Math.clz32(~value);
  if (ones !== 32 && (value << ones) >>> 0 !== 0) throw new DhcpParseError(`${what} ${[...bytes].join(".")} is not a prefix mask`);
  return ones;
}

function optionalU32(message: DhcpMessage, code: number, what: string): number | undefined {
  const data = message.options.get(code);
  if (!data) return undefined;
  if (data.length !== 4) throw new DhcpParseError(`${what} has ${data.length} bytes instead of 4`);
  return new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
}

function optionalAddress(message: DhcpMessage, code: number, what: string): IPAddress | undefined {
  const data = message.options.get(code);
  if (!data) return undefined;
  if (data.length !== 4) throw new DhcpParseError(`${what} has ${data.length} bytes instead of 4`);
  return IPAddress.fromBytes(data);
}

function addressList(message: DhcpMessage, code: number, what: string): IPAddress[] | undefined {
  const data = message.options.get(code);
  if (!data) return undefined;
  if (data.length === 0 || data.length % 4 !== 0) throw new DhcpParseError(`${what} has ${data.length} bytes, not a non-empty multiple of 4`);
  const addresses: IPAddress[] = [];
  for (let position = 0; position < data.length; position += 4) addresses.push(IPAddress.fromBytes(data.subarray(position, position + 4)));
  return addresses;
}

/** The message type (option 53), validated. */
export function messageTypeOf(message: DhcpMessage): number {
  const data = message.options.get(Option.MessageType);
  if (!data) throw new DhcpParseError("no message type (option 53)");
  if (data.length !== 1) throw new DhcpParseError(`message type (option 53) has ${data.length} bytes instead of 1`);
  return data[0]!;
}

/** The server identifier (option 54), when present and valid. */
export function serverIdOf(message: DhcpMessage): IPAddress | undefined {
  return optionalAddress(message, Option.ServerIdentifier, "server identifier (option 54)");
}
