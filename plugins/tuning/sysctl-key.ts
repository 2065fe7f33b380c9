import { CniError, ErrorCode } from "../../lib/skel/index.ts";

/** The placeholder in a key that stands for CNI_IFNAME, as in the reference. */
export const IFNAME_PLACEHOLDER = "IFNAME";

/**
 * Turns a configured sysctl key into its path below /proc/sys, in the form lib/netns/sysctl
 * takes ("net/ipv4/conf/eth0.100/arp_notify"), as the reference does: "." and "/" both separate
 * components, and then the first "IFNAME" becomes the interface name. Substituting after
 * splitting is what lets an interface name hold dots.
 *
 * The reference joins the components into a path and cleans it, so "net/ipv4/../core/x",
 * "net.ipv4.conf.eth0..x" and "/net/core/x" all name some other file than they spell. Here
 * every component must be a plain name: an empty one, "." or ".." is a configuration error
 * (code 7), as is a key outside net.*, the only subsystem that belongs to a network namespace.
 */
export function sysctlPath(key: string, ifname: string): string {
  const components = key.split(/[./]/);
  const placeholder = components.findIndex((component) => component.includes(IFNAME_PLACEHOLDER));
  if (placeholder >= 0) components[placeholder] = components[placeholder]!.replace(IFNAME_PLACEHOLDER, ifname);
  if (components.some((component) => component === "" || component === "." || component === "..")) {
    throw invalidSysctlKey(key, 'must be plain names separated by single "." or "/": no "..", no empty, leading or trailing separator');
  }
  if (components[0] !== "net" || components.length < 2) {
    throw invalidSysctlKey(key, "only keys under net.* can be set: other sysctls are not the container's own");
  }
  return components.join("/");
}

export function invalidSysctlKey(key: string, reason: string): CniError {
  return new CniError(ErrorCode.InvalidConfig, `invalid config: sysctl key ${JSON.stringify(key)}: ${reason}`);
}
