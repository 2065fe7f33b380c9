import { z } from "zod";
import { lazy } from "../core/index.ts";
import { Cidr, IPAddress } from "../ip/index.ts";

/**
 * Wire shapes of results, per spec version family, as libcni writes and reads them.
 * Decoding is lenient where libcni is (unknown keys ignored), strict on what must be an address.
 *
 * Built on first use, as most runs decode one shape (a current prevResult or IPAM result) and
 * some none; and fields of one type share one schema instance (a schema holds no per-field
 * state: errors take the field's path from the parent). Both save start-up time, since zod
 * builds every wrapper and check as an object: building both shapes took ~1.3 ms per process.
 */
// Read as Go's net.ParseCIDR and net.ParseIP read them, so that nothing later meets an address it cannot parse.
const cidr = lazy(() => z.string().refine((text) => Cidr.tryParse(text) !== undefined, "must be an address in CIDR notation"));
const optionalIp = lazy(() => z.string().refine((text) => IPAddress.tryParse(text) !== undefined, "must be an IP address").optional());
const optionalString = lazy(() => z.string().optional());
const optionalStrings = lazy(() => z.array(z.string()).optional());
const optionalInt = lazy(() => z.number().int().optional());

const dnsSchema = lazy(() =>
  z
    .object({
      nameservers: optionalStrings(),
      domain: optionalString(),
      search: optionalStrings(),
      options: optionalStrings(),
    })
    .optional(),
);

const routeSchema = lazy(() =>
  z.object({
    dst: cidr(),
    gw: optionalIp(),
    mtu: optionalInt(),
    advmss: optionalInt(),
    priority: optionalInt(),
    table: optionalInt(),
    scope: optionalInt(),
  }),
);

/** 0.1.0 and 0.2.0: one IPv4 and one IPv6 configuration, routes inside each. */
export const legacyResultSchema = lazy(() => {
  const ipConfig = z.object({ ip: cidr(), gateway: optionalIp(), routes: z.array(routeSchema()).optional() }).optional();
  return z.object({ cniVersion: optionalString(), ip4: ipConfig, ip6: ipConfig, dns: dnsSchema() });
});

const interfaceSchema = lazy(() =>
  z.object({
    name: z.string(),
    mac: optionalString(),
    mtu: optionalInt(),
    sandbox: optionalString(),
    socketPath: optionalString(),
    pciID: optionalString(),
  }),
);

/** 0.3.0 to 1.1.0: interfaces, ips (with "version" before 1.0.0), routes, dns. */
export const currentResultSchema = lazy(() =>
  z.object({
    cniVersion: optionalString(),
    interfaces: z.array(interfaceSchema()).optional(),
    ips: z
      .array(
        z.object({
          version: z.enum(["4", "6"]).optional(),
          interface: z.number().int().nonnegative().optional(),
          address: cidr(),
          gateway: optionalIp(),
        }),
      )
      .optional(),
    routes: z.array(routeSchema()).optional(),
    dns: dnsSchema(),
  }),
);
