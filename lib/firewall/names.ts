/**
 * Names and comments that identify a container's rules. They follow the reference plugins'
 * formats byte for byte, so operators recognise the rules and either implementation can find
 * (and clean up) what the other made.
 */

/** iptables refuses chain names longer than 28 characters. */
const CHAIN_NAME_LENGTH = 28;
const CHAIN_PREFIX = "CNI-";
const SHA512_HEX_LENGTH = 128;

/** `prefix` followed by the hex SHA-512 of `text`, cut to exactly `length` characters. */
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

/**
 * The per-container iptables chain: "CNI-" + prefix + hash of network name and container ID,
 * 28 characters in all (prefix "" for masquerading; portmap uses "DN-").
 */
export function formatChainName(network: string, containerId: string, prefix = ""): string {
  return hashWithPrefix(CHAIN_NAME_LENGTH, CHAIN_PREFIX + prefix, network + containerId);
}

/** Matches chain names formatChainName makes without a prefix. */
export const UNPREFIXED_CHAIN_NAME = /^CNI-[0-9a-f]{24}$/;

/** The comment on every iptables rule of a container: `name: "<network>" id: "<containerId>"`. */
export function formatComment(network: string, containerId: string): string {
  return `name: ${quoteLikeGo(network)} id: ${quoteLikeGo(containerId)}`;
}

/** Reads back the network and container ID from a comment formatComment made. */
export function parseComment(comment: string): { network: string; containerId: string } | undefined {
  const match = /^name: ("(?:[^"\\]|\\.)*") id: ("(?:[^"\\]|\\.)*")$/.exec(comment);
  if (!match) return undefined;
  try {
    return { network: JSON.parse(match[1]!) as string, containerId: JSON.parse(match[2]!) as string };
  } catch {
    return undefined;
  }
}

/**
 * Go's %q for the strings that reach it here: network names and container IDs are limited to
 * letters, digits, "_", "." and "-" by validation, where %q and JSON quoting agree.
 */
function quoteLikeGo(text: string): string {
  return JSON.stringify(text);
}
