import { readSysctl, writeSysctl } from "./sysctl.ts";

/**
 * Turns on routing between interfaces for a family, in the calling thread's namespace. Written
 * only when off: rewriting IPv6 forwarding makes the kernel revisit every interface.
 */
export function enableForwarding(family: 4 | 6): void {
  const key = family === 4 ? "net/ipv4/ip_forward" : "net/ipv6/conf/all/forwarding";
  if (readSysctl(key) !== "1") writeSysctl(key, "1");
}
