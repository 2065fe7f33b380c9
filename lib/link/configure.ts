import { setTimeout as sleep } from "node:timers/promises";
import { CniError, ErrorCode } from "../core/index.ts";
import { Cidr, IPAddress } from "../ip/index.ts";
import type { Link, Rtnetlink } from "../netlink/index.ts";
import { readSysctl, writeSysctl } from "../netns/index.ts";
import type { Result, Route } from "../types/index.ts";
import type { Attachment } from "./attachment.ts";

const DAD_SETTLE_TIMEOUT_MS = 5_000;
const DAD_POLL_MS = 50;

/**
 * Applies an IPAM result to the container interface `ifname` (the reference's
 * ipam.ConfigureIface): its addresses (those whose `interface` index names it in
 * `result.interfaces`), link up, then its routes (a route without a gateway goes via the
 * interface's gateway of that family).
 */
export async function applyIpamResult(attachment: Attachment, ifname: string, result: Result): Promise<void> {
  const { container: nl, netns } = attachment;
  const link = nl.linkByName(ifname);
  if (!link) throw new CniError(ErrorCode.KernelOperationFailed, `interface ${ifname} vanished from ${netns.path}`);
  const own = (result.ips ?? []).filter((ipc) => ipc.interface !== undefined && result.interfaces?.[ipc.interface]?.name === ifname);

  const gateways: { 4?: string; 6?: string } = {};
  let ipv6Enabled = false;
  for (const ipc of own) {
    const cidr = Cidr.parse(ipc.address);
    if (cidr.family === 6 && !ipv6Enabled) {
      netns.run(() => enableIpv6(ifname));
      ipv6Enabled = true;
    }
    nl.addAddress({ index: link.index, address: cidr.address.toString(), prefixLength: cidr.prefixLength });
    if (ipc.gateway) gateways[cidr.family] ??= ipc.gateway;
  }
  nl.setLink(link.index, { up: true });
  if (gateways[6]) await settleIpv6Addresses(nl, link.index, ifname);

  for (const route of result.routes ?? []) {
    const family = Cidr.parse(route.dst).family;
    nl.addRoute({
      dst: route.dst,
      gateway: route.gw ?? gateways[family],
      index: link.index,
      priority: route.priority,
      table: route.table,
      scope: route.scope,
      mtu: route.mtu,
      advmss: route.advmss,
    }, "beside");
  }
}

/** IPv6 may be off in a fresh namespace (disable_ipv6=1); an IPv6 address needs it on. */
function enableIpv6(ifname: string): void {
  for (const device of ["lo", ifname]) {
    const key = `net/ipv6/conf/${device}/disable_ipv6`;
    let current: string;
    try {
      current = readSysctl(key);
    } catch {
      continue; // no IPv6 in this kernel: the address add will say so
    }
    if (current !== "0") writeSysctl(key, "0");
  }
  writeSysctl(`net/ipv6/conf/${ifname}/keep_addr_on_down`, "1");
}

/** Waits until no IPv6 address of the link is tentative, as the reference does before routing. */
async function settleIpv6Addresses(nl: Rtnetlink, index: number, ifname: string): Promise<void> {
  const deadline = Date.now() + DAD_SETTLE_TIMEOUT_MS;
  for (;;) {
    const addresses = nl.addresses({ index, family: 6 });
    const failed = addresses.find((address) => address.dadFailed);
    if (failed) {
      throw new CniError(ErrorCode.KernelOperationFailed, `${ifname}: address ${failed.address} failed duplicate address detection`);
    }
    if (!addresses.some((address) => address.tentative)) return;
    if (Date.now() > deadline) {
      if (nl.linkByIndex(index)?.operState !== "up") return;
      throw new CniError(ErrorCode.KernelOperationFailed, `${ifname} still has tentative IPv6 addresses after ${DAD_SETTLE_TIMEOUT_MS / 1000} s`);
    }
    await sleep(DAD_POLL_MS);
  }
}

/** CHECK: every address of the result that names `ifname` is on it. */
export function checkInterfaceAddresses(nl: Rtnetlink, ifname: string, result: Result): void {
  const link = nl.linkByName(ifname);
  if (!link) throw new CniError(ErrorCode.CheckFailed, `interface ${ifname} not found in the container`);
  const present = nl.addresses({ index: link.index }).map((address) => `${IPAddress.parse(address.address)}/${address.prefixLength}`);
  for (const ipc of result.ips ?? []) {
    if (ipc.interface === undefined || result.interfaces?.[ipc.interface]?.name !== ifname) continue;
    const cidr = Cidr.parse(ipc.address);
    const expected = `${cidr.address}/${cidr.prefixLength}`;
    if (!present.includes(expected)) {
      throw new CniError(ErrorCode.CheckFailed, `address ${expected} of the result is missing from ${ifname} (found ${present.join(", ") || "none"})`);
    }
  }
}

/** CHECK: every route of the result is in the container's routing table. */
export function checkRoutes(nl: Rtnetlink, routes: readonly Route[]): void {
  for (const route of routes) {
    const dst = Cidr.parse(route.dst);
    const found = nl.routes({ family: dst.family, table: route.table }).some((entry) => {
      if (!Cidr.parse(entry.dst).withoutHostBits().equals(dst.withoutHostBits())) return false;
      return route.gw === undefined || (entry.gateway !== undefined && IPAddress.parse(entry.gateway).equals(IPAddress.parse(route.gw)));
    });
    if (!found) {
      throw new CniError(ErrorCode.CheckFailed, `route to ${route.dst}${route.gw ? ` via ${route.gw}` : ""} of the result is missing in the container`);
    }
  }
}

/** CHECK: the link has the MAC a previous result gave it (none given: anything goes). */
export function checkLinkMac(link: Link, mac: string | undefined): void {
  if (mac && link.mac?.toLowerCase() !== mac.toLowerCase()) {
    throw new CniError(ErrorCode.CheckFailed, `${link.name} has MAC ${link.mac}, prevResult says ${mac}`);
  }
}
