import type { Ipam } from "../../lib/invoke/index.ts";
import type { MasterChoice } from "../../lib/link/index.ts";
import { invalidConfig } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import type { IpvlanConfig } from "./config.ts";

/**
 * The master, as the reference picks it: `master` when set; chained (a prevResult) without it,
 * the one interface prevResult lists; otherwise the default route's interface (lib/link).
 */
export function chooseMaster(config: IpvlanConfig, prevResult: Result | undefined): MasterChoice {
  if (config.master !== undefined || !prevResult) return config;
  const interfaces = prevResult.interfaces ?? [];
  const [only] = interfaces;
  if (interfaces.length !== 1 || !only?.name) {
    throw invalidConfig("master", undefined, `not given; chained, the master is the single interface of prevResult, which lists ${interfaces.length}`);
  }
  return { master: only.name, linkInContainer: config.linkInContainer };
}

/**
 * Where the addresses come from: IPAM when configured (undefined is returned), else prevResult's
 * addresses (chained). Neither is code 7, before anything is made.
 */
export function requireAddressSource(ipam: Ipam | undefined, prevResult: Result | undefined): Result | undefined {
  if (ipam) return undefined;
  if (prevResult?.ips?.length) return prevResult;
  throw invalidConfig("ipam", undefined, "required: ipvlan takes its addresses from IPAM, or, chained, from prevResult, which has none");
}
