/**
 * "<prefix>" and 8 random hex digits, as the reference names host ends of veth pairs ("veth" +
 * 8 hex). The global Web Crypto random source: node:crypto's randomBytes would cost the
 * executable ~2 ms to load.
 */
export function randomLinkName(prefix = "veth"): string {
  const name = `${prefix}${Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString("hex")}`;
  if (Buffer.byteLength(name) > 15) throw new RangeError(`randomLinkName: prefix "${prefix}" leaves no room in 15 bytes`);
  return name;
}
