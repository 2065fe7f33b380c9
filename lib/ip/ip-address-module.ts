import { createRequire } from "node:module";

type IpAddressModule = typeof import("ip-address");

let loaded: IpAddressModule | undefined;

/**
 * The ip-address package, loaded on first use instead of at import: evaluating its module code
 * costs a plugin process ~1.5 ms, and only IPv6 text needs it (address.ts reads IPv4 itself).
 *
 * Loading has to stay synchronous, as address parsing is. Bun (the executable) has `require`
 * in ES modules, and its bundler turns this call into the bundled package's lazy CommonJS
 * wrapper, dropping the other branch; Node (tests) has no `require` there, so it makes one.
 */
export function ipAddressModule(): IpAddressModule {
  loaded ??= (typeof require === "function" ? require("ip-address") : createRequire(import.meta.url)("ip-address")) as IpAddressModule;
  return loaded;
}
