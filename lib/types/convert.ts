import { CniError, ErrorCode, parseWithSchema } from "../core/index.ts";
import type { DNS, IPConfig, Result, Route } from "./result.ts";
import { versionAtLeast, type CniVersion } from "./version.ts";
import { currentResultSchema, legacyResultSchema } from "./wire.ts";

/** A result object as it goes on the wire, in the key order libcni writes. */
export type WireResult = Record<string, unknown>;

function isLegacy(version: string): boolean {
  return !versionAtLeast(version, "0.3.0");
}

/**
 * Reads a result (a prevResult, or a delegated plugin's output) into the canonical shape. The
 * shape is recognised from its keys rather than trusted from a version string, so a result of any
 * version is accepted. `field` names where it came from, for error messages.
 */
export function decodeResult(raw: unknown, field = "prevResult"): Result {
  if (hasLegacyShape(raw)) {
    const legacy = parseWithSchema(legacyResultSchema(), raw, field);
    const result: Result = { ips: [], routes: [] };
    for (const config of [legacy.ip4, legacy.ip6]) {
      if (!config) continue;
      result.ips!.push(withoutUndefined({ address: config.ip, gateway: config.gateway }));
      for (const route of config.routes ?? []) result.routes!.push(withoutUndefined(route));
    }
    if (legacy.dns) result.dns = withoutUndefined(legacy.dns);
    return result;
  }
  const current = parseWithSchema(currentResultSchema(), raw, field);
  const result: Result = {};
  if (current.interfaces) result.interfaces = current.interfaces.map(withoutUndefined);
  if (current.ips) result.ips = current.ips.map(({ version: _, ...ipc }) => withoutUndefined(ipc));
  if (current.routes) result.routes = current.routes.map(withoutUndefined);
  if (current.dns) result.dns = withoutUndefined(current.dns);
  return result;
}

function hasLegacyShape(raw: unknown): boolean {
  if (typeof raw !== "object" || raw === null) return false;
  const keys = Object.keys(raw);
  return (keys.includes("ip4") || keys.includes("ip6")) && !keys.includes("ips");
}

/** Writes the canonical result in the wire shape of `version`. */
export function encodeResult(result: Result, version: CniVersion): WireResult {
  if (isLegacy(version)) return encodeLegacy(result, version);
  const withVersionField = !versionAtLeast(version, "1.0.0");
  const wire: WireResult = { cniVersion: version };
  if (result.interfaces?.length) {
    wire.interfaces = result.interfaces.map((intf) =>
      withVersionField
        ? withoutUndefined({ name: intf.name, mac: intf.mac, sandbox: intf.sandbox })
        : withoutUndefined({
            name: intf.name,
            mac: intf.mac,
            mtu: intf.mtu,
            sandbox: intf.sandbox,
            socketPath: intf.socketPath,
            pciID: intf.pciID,
          }),
    );
  }
  if (result.ips?.length) {
    wire.ips = result.ips.map((ipc) =>
      withoutUndefined({
        ...(withVersionField ? { version: ipFamilyOf(ipc.address) } : {}),
        interface: ipc.interface,
        address: ipc.address,
        gateway: ipc.gateway,
      }),
    );
  }
  if (result.routes?.length) wire.routes = result.routes.map(encodeRoute);
  wire.dns = encodeDns(result.dns);
  return wire;
}

function encodeLegacy(result: Result, version: CniVersion): WireResult {
  const ip4 = result.ips?.find((ipc) => ipFamilyOf(ipc.address) === "4");
  const ip6 = result.ips?.find((ipc) => ipFamilyOf(ipc.address) === "6");
  if (!ip4 && !ip6) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `cannot express this result in CNI ${version}: it has no IP address (0.1.0 and 0.2.0 results need one)`,
    );
  }
  const wire: WireResult = { cniVersion: version };
  const legacyConfig = (ipc: IPConfig, family: "4" | "6") => {
    const routes = (result.routes ?? [])
      .filter((route) => ipFamilyOf(route.dst) === family)
      .map((route) => withoutUndefined({ dst: route.dst, gw: route.gw }));
    return withoutUndefined({ ip: ipc.address, gateway: ipc.gateway, routes: routes.length ? routes : undefined });
  };
  if (ip4) wire.ip4 = legacyConfig(ip4, "4");
  if (ip6) wire.ip6 = legacyConfig(ip6, "6");
  wire.dns = encodeDns(result.dns);
  return wire;
}

function encodeRoute(route: Route): Record<string, unknown> {
  return withoutUndefined({
    dst: route.dst,
    gw: route.gw,
    mtu: route.mtu || undefined,
    advmss: route.advmss || undefined,
    priority: route.priority || undefined,
    table: route.table,
    scope: route.scope,
  });
}

/** libcni always writes a dns object, empty when there is nothing to say. */
function encodeDns(dns: DNS | undefined): DNS {
  if (!dns) return {};
  return withoutUndefined({
    nameservers: dns.nameservers?.length ? dns.nameservers : undefined,
    domain: dns.domain || undefined,
    search: dns.search?.length ? dns.search : undefined,
    options: dns.options?.length ? dns.options : undefined,
  });
}

/** "4" or "6" for an address with or without a prefix length. */
export function ipFamilyOf(address: string): "4" | "6" {
  return address.includes(":") ? "6" : "4";
}

function withoutUndefined<T extends object>(object: T): T {
  const copy = { ...object };
  for (const key of Object.keys(copy) as (keyof T)[]) {
    if (copy[key] === undefined) delete copy[key];
  }
  return copy;
}
