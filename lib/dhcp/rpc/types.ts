/**
 * The Go types the dhcp plugin and daemon exchange over net/rpc, as gob describes them, and
 * their conversion from and to ours. The reference's types grew between releases (Route gained
 * MTU ... Scope, Interface gained Mtu, SocketPath, PciID, CmdArgs gained NetnsOverride); gob
 * matches fields by name, so the newest shape is sent and every older reader ignores what it
 * does not know, and whatever an older writer leaves out reads as absent.
 */
import { Cidr, IPAddress } from "../../ip/index.ts";
import type { IPConfig, Result, Route } from "../../types/index.ts";
import { BYTES, GobError, INT, STRING, UINT, type GobStruct, type GobType, type GobValue } from "./gob.ts";

/** net/rpc's request header. */
export const requestType: GobType = {
  kind: "struct",
  name: "Request",
  fields: [
    { name: "ServiceMethod", type: STRING },
    { name: "Seq", type: UINT },
  ],
};

/** net/rpc's response header: Error is empty on success. */
export const responseType: GobType = {
  kind: "struct",
  name: "Response",
  fields: [
    { name: "ServiceMethod", type: STRING },
    { name: "Seq", type: UINT },
    { name: "Error", type: STRING },
  ],
};

/** What net/rpc sends as the body of a failed call, and DHCP.Release's reply. */
export const emptyType: GobType = { kind: "struct", name: "", fields: [] };

/** skel.CmdArgs: the plugin's CNI parameters and stdin. */
export const cmdArgsType: GobType = {
  kind: "struct",
  name: "CmdArgs",
  fields: [
    { name: "ContainerID", type: STRING },
    { name: "Netns", type: STRING },
    { name: "IfName", type: STRING },
    { name: "Args", type: STRING },
    { name: "Path", type: STRING },
    { name: "StdinData", type: BYTES },
  ],
};

/**
 * net.IP is a byte slice (4 or 16 bytes); gob ignores its MarshalText on purpose
 * (golang.org/issue/6760).
 */
const ipType: GobType = BYTES;
const ipNetType: GobType = {
  kind: "struct",
  name: "IPNet",
  fields: [
    { name: "IP", type: ipType },
    { name: "Mask", type: BYTES },
  ],
};
const interfaceType: GobType = {
  kind: "struct",
  name: "Interface",
  fields: ["Name", "Mac", "Mtu", "Sandbox", "SocketPath", "PciID"].map((name) => ({ name, type: name === "Mtu" ? INT : STRING })),
};
const ipConfigType: GobType = {
  kind: "struct",
  name: "IPConfig",
  fields: [
    { name: "Interface", type: INT },
    { name: "Address", type: ipNetType },
    { name: "Gateway", type: ipType },
  ],
};
const routeType: GobType = {
  kind: "struct",
  name: "Route",
  fields: [
    { name: "Dst", type: ipNetType },
    { name: "GW", type: ipType },
    ...["MTU", "AdvMSS", "Priority", "Table", "Scope"].map((name) => ({ name, type: INT })),
  ],
};
const stringsType: GobType = { kind: "slice", name: "[]string", elem: STRING };
const dnsType: GobType = {
  kind: "struct",
  name: "DNS",
  fields: [
    { name: "Nameservers", type: stringsType },
    { name: "Domain", type: STRING },
    { name: "Search", type: stringsType },
    { name: "Options", type: stringsType },
  ],
};

/** types/100.Result: DHCP.Allocate's reply. */
export const resultType: GobType = {
  kind: "struct",
  name: "Result",
  fields: [
    { name: "CNIVersion", type: STRING },
    { name: "Interfaces", type: { kind: "slice", name: "[]*types100.Interface", elem: interfaceType } },
    { name: "IPs", type: { kind: "slice", name: "[]*types100.IPConfig", elem: ipConfigType } },
    { name: "Routes", type: { kind: "slice", name: "[]*types.Route", elem: routeType } },
    { name: "DNS", type: dnsType },
  ],
};

/** skel.CmdArgs as our code reads it. */
export interface CmdArgs {
  containerId: string;
  netns: string;
  ifname: string;
  args: string;
  path: string;
  stdin: Uint8Array;
}

export function cmdArgsToGob(args: CmdArgs): GobStruct {
  return { ContainerID: args.containerId, Netns: args.netns, IfName: args.ifname, Args: args.args, Path: args.path, StdinData: args.stdin };
}

export function cmdArgsFromGob(value: GobValue): CmdArgs {
  const struct = asStruct(value, "CmdArgs");
  return {
    containerId: stringField(struct, "ContainerID"),
    netns: stringField(struct, "Netns"),
    ifname: stringField(struct, "IfName"),
    args: stringField(struct, "Args"),
    path: stringField(struct, "Path"),
    stdin: bytesField(struct, "StdinData"),
  };
}

export function resultToGob(result: Result): GobStruct {
  return {
    Interfaces: (result.interfaces ?? []).map((intf) => ({ Name: intf.name, Mac: intf.mac, Mtu: intf.mtu, Sandbox: intf.sandbox, SocketPath: intf.socketPath, PciID: intf.pciID })),
    IPs: (result.ips ?? []).map((ipc) => ({ Interface: ipc.interface, Address: ipNetToGob(ipc.address), Gateway: ipToGob(ipc.gateway) })),
    Routes: (result.routes ?? []).map((route) => ({
      Dst: ipNetToGob(route.dst),
      GW: ipToGob(route.gw),
      MTU: route.mtu,
      AdvMSS: route.advmss,
      Priority: route.priority,
      Table: route.table,
      Scope: route.scope,
    })),
    DNS: {
      Nameservers: result.dns?.nameservers,
      Domain: result.dns?.domain,
      Search: result.dns?.search,
      Options: result.dns?.options,
    },
  };
}

/** DHCP.Allocate's reply as a Result; throws GobError when a field is not what it must be. */
export function resultFromGob(value: GobValue): Result {
  const struct = asStruct(value, "Result");
  const result: Result = {};
  const ips = listField(struct, "IPs").map((entry): IPConfig => {
    const ipc = asStruct(entry, "IPConfig");
    const config: IPConfig = { address: ipNetFromGob(ipc.Address, "IPConfig.Address") };
    const gateway = optionalIp(ipc.Gateway, "IPConfig.Gateway");
    if (gateway) config.gateway = gateway;
    const index = optionalInt(ipc.Interface, "IPConfig.Interface");
    if (index !== undefined) config.interface = index;
    return config;
  });
  if (ips.length > 0) result.ips = ips;
  const routes = listField(struct, "Routes").map((entry): Route => {
    const fields = asStruct(entry, "Route");
    const route: Route = { dst: ipNetFromGob(fields.Dst, "Route.Dst") };
    const gw = optionalIp(fields.GW, "Route.GW");
    if (gw) route.gw = gw;
    for (const [key, name] of [["mtu", "MTU"], ["advmss", "AdvMSS"], ["priority", "Priority"], ["table", "Table"], ["scope", "Scope"]] as const) {
      const number = optionalInt(fields[name], `Route.${name}`);
      if (number !== undefined) route[key] = number;
    }
    return route;
  });
  if (routes.length > 0) result.routes = routes;
  if (struct.DNS !== undefined) {
    const dns = asStruct(struct.DNS, "DNS");
    const nameservers = stringList(dns, "Nameservers");
    const search = stringList(dns, "Search");
    const options = stringList(dns, "Options");
    const domain = dns.Domain === undefined ? "" : stringField(dns, "Domain");
    if (nameservers.length || search.length || options.length || domain) {
      result.dns = {};
      if (nameservers.length) result.dns.nameservers = nameservers;
      if (domain) result.dns.domain = domain;
      if (search.length) result.dns.search = search;
      if (options.length) result.dns.options = options;
    }
  }
  return result;
}

function ipNetToGob(cidr: string): GobStruct {
  const parsed = Cidr.parse(cidr);
  return { IP: parsed.address.toBytes(), Mask: parsed.mask.toBytes() };
}

function ipToGob(ip: string | undefined): Uint8Array | undefined {
  return ip === undefined ? undefined : IPAddress.parse(ip).toBytes();
}

function ipNetFromGob(value: GobValue | undefined, field: string): string {
  const struct = asStruct(value ?? {}, field);
  const ip = optionalIp(struct.IP, `${field}.IP`);
  if (!ip) throw new GobError(`${field} has no IP`);
  const address = IPAddress.parse(ip);
  let mask = struct.Mask === undefined ? new Uint8Array(0) : bytesField(struct, "Mask");
  // Go keeps IPv4 masks in 16 bytes at times; the last 4 are the IPv4 mask then.
  if (address.family === 4 && mask.length === 16) mask = mask.subarray(12);
  if (mask.length !== address.bits / 8) throw new GobError(`${field}.Mask has ${mask.length} bytes for the IPv${address.family} address ${ip}`);
  return `${ip}/${prefixLength(mask, field)}`;
}

function prefixLength(mask: Uint8Array, field: string): number {
  let ones = 0;
  let seenZero = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      if (byte & (1 << bit)) {
        if (seenZero) throw new GobError(`${field}.Mask is not a prefix mask`);
        ones++;
      } else {
        seenZero = true;
      }
    }
  }
  return ones;
}

function optionalIp(value: GobValue | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Uint8Array)) throw new GobError(`${field} is not an IP (a byte slice)`);
  if (value.length === 0) return undefined;
  if (value.length !== 4 && value.length !== 16) throw new GobError(`${field} has ${value.length} bytes; an IP has 4 or 16`);
  return IPAddress.fromBytes(value).toString();
}

function optionalInt(value: GobValue | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number") throw new GobError(`${field} is not a small integer`);
  return value;
}

function asStruct(value: GobValue, what: string): GobStruct {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array || value instanceof Map) {
    throw new GobError(`${what} is not a struct`);
  }
  return value;
}

function stringField(struct: GobStruct, name: string): string {
  const value = struct[name];
  if (value === undefined) return "";
  if (typeof value !== "string") throw new GobError(`${name} is not a string`);
  return value;
}

function bytesField(struct: GobStruct, name: string): Uint8Array {
  const value = struct[name];
  if (value === undefined) return new Uint8Array(0);
  if (!(value instanceof Uint8Array)) throw new GobError(`${name} is not a byte slice`);
  return value;
}

function listField(struct: GobStruct, name: string): GobValue[] {
  const value = struct[name];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new GobError(`${name} is not a slice`);
  return value;
}

function stringList(struct: GobStruct, name: string): string[] {
  return listField(struct, name).map((entry) => {
    if (typeof entry !== "string") throw new GobError(`${name} holds something other than strings`);
    return entry;
  });
}
