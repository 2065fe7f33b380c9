/**
 * Names and comments that identify a container's rules. They follow the reference plugins'
 * formats byte for byte, so operators recognise the rules and either implementation can find
 * (and clean up) what the other made.
 */
import { hashWithPrefix } from "../core/index.ts";

/** iptables refuses chain names longer than 28 characters. */
const CHAIN_NAME_LENGTH = 28;
const CHAIN_PREFIX = "CNI-";

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
