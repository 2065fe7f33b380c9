import { execFileSync } from "node:child_process";
import { NetNS } from "../../../lib/netns/index.ts";
import { Rtnetlink } from "../../../lib/netlink/index.ts";
import { type TestNetns, createNetns } from "../../helpers/netns.ts";
import { randomSubnets } from "../../helpers/tag.ts";

/** A namespace made for a test, with a handle on it and an rtnetlink socket opened inside it. */
export interface NetlinkNamespace {
  readonly netns: TestNetns;
  readonly handle: NetNS;
  readonly nl: Rtnetlink;
  /** Runs `ip` inside the namespace. */
  ip(...args: string[]): string;
  remove(): void;
}

export function netlinkNamespace(prefix: string): NetlinkNamespace {
  const netns = createNetns(prefix);
  const handle = NetNS.open(netns.path);
  const nl = Rtnetlink.openIn(handle);
  return {
    netns,
    handle,
    nl,
    ip: (...args) => execFileSync("ip", ["-n", netns.name, ...args], { encoding: "utf8" }),
    remove() {
      nl.close();
      handle.close();
      netns.remove();
    },
  };
}

/** The error fn throws (a test failure when it throws nothing). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error, but the call succeeded");
}

/** Creates a veth pair in the namespace with both ends up, so it has carrier; returns the index of `name`. */
export function vethWithCarrier(ns: NetlinkNamespace, name: string): number {
  ns.nl.createLink({ kind: "veth", name, peer: { name: `${name}p` } });
  const index = ns.nl.linkByName(name)!.index;
  ns.nl.setLink(index, { up: true });
  ns.nl.setLink(ns.nl.linkByName(`${name}p`)!.index, { up: true });
  return index;
}

/**
 * randomSubnets() with the IPv6 prefix in canonical form (no leading zeros in a group), as the
 * kernel reports addresses; the helper's raw hex groups can start with 0.
 */
export function testSubnets(): ReturnType<typeof randomSubnets> {
  const subnets = randomSubnets();
  const v6Prefix = subnets.v6Prefix
    .split(":")
    .map((group) => parseInt(group, 16).toString(16))
    .join(":");
  return { ...subnets, v6Prefix, v6: `${v6Prefix}::/64` };
}
