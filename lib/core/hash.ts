const SHA512_HEX_LENGTH = 128;

/**
 * `prefix` followed by the hex SHA-512 of `text`, cut to exactly `length` characters: how the
 * reference names per-container chains, ifb devices and nftables sets, so names stay short,
 * stable and attributable.
 */
export function hashWithPrefix(length: number, prefix: string, text: string): string {
  if (prefix.length >= length || length > SHA512_HEX_LENGTH) {
    throw new RangeError(`hashWithPrefix: cannot fit prefix "${prefix}" and a hash into ${length} characters`);
  }
  return (prefix + sha512Hex(text)).slice(0, length);
}

/**
 * Bun's native hasher in the executable: loading node:crypto would cost every plugin process
 * that names a chain ~2 ms (it pulls in Node's stream modules). Node (tests) has no Bun global.
 */
function sha512Hex(text: string): string {
  if (process.versions.bun) return new Bun.CryptoHasher("sha512").update(text).digest("hex");
  return process.getBuiltinModule("node:crypto").createHash("sha512").update(text).digest("hex");
}
