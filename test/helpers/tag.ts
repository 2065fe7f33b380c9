import { randomBytes } from "node:crypto";

/**
 * A short tag unique to this test process, for names of namespaces, links, chains and dirs, so
 * parallel and repeated runs never collide and leftovers are attributable.
 */
export const RUN_TAG = randomBytes(3).toString("hex");

let counter = 0;

/** A fresh name "<prefix><tag><n>", at most 15 bytes so it also fits an interface name. */
export function uniqueName(prefix: string): string {
  const name = `${prefix}${RUN_TAG}${(counter++).toString(36)}`;
  if (name.length > 15) throw new Error(`uniqueName: "${name}" is longer than 15 bytes; use a shorter prefix`);
  return name;
}

/**
 * A random /24 in 10.x per call, and a matching /64 in fd00::/8, for one test network. The IPv6
 * groups never start with 0 and are never 0, so the text is already canonical (as the kernel and
 * the plugins print it) and `${v6Prefix}::1` compares equal as text.
 */
export function randomSubnets(): { v4: string; v4Prefix: string; v6: string; v6Prefix: string } {
  const [a, b] = randomBytes(2);
  const v4Prefix = `10.${(a! % 200) + 20}.${b}`;
  const group = () => (randomBytes(2).readUInt16BE() | 0x1000).toString(16);
  const v6Prefix = `fd${randomBytes(1).toString("hex")}:${group()}:${group()}:${group()}`;
  return { v4: `${v4Prefix}.0/24`, v4Prefix, v6: `${v6Prefix}::/64`, v6Prefix };
}
