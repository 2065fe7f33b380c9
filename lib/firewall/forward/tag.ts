import type { GcAttachment } from "../../types/index.ts";
import { hashWithPrefix } from "../../core/index.ts";
import type { ForwardAttachment } from "./types.ts";

/**
 * The comment of the firewall plugin's marker rules, which tie an address to its attachment, so
 * that DEL without prevResult (a runtime that died before caching the result) and GC find the
 * address's rules from network, container ID and interface alone:
 *
 *   <h(network)>-<h(ifname:containerID)> firewall net: <network> id: <containerID> if: <ifname>
 *
 * `h` is the first 16 hex digits of SHA-512; the hashes identify, the rest is for people (cut to
 * what iptables keeps, characters outside a safe set replaced).
 */
const HASH_LENGTH = 16;
/** iptables keeps a comment of at most 255 characters. */
const COMMENT_MAX_LENGTH = 255;
const TAG = /^([0-9a-f]{16})-([0-9a-f]{16}) firewall( |$)/;

function networkHash(network: string): string {
  return hashWithPrefix(HASH_LENGTH, "", network);
}

function attachmentHash(ifname: string, containerId: string): string {
  return hashWithPrefix(HASH_LENGTH, "", `${ifname}:${containerId}`);
}

export function attachmentTag(attachment: ForwardAttachment): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9_.:@%+=-]/g, "_");
  const { network, containerId, ifname } = attachment;
  const comment = `${networkHash(network)}-${attachmentHash(ifname, containerId)} firewall net: ${safe(network)} id: ${safe(containerId)} if: ${safe(ifname)}`;
  return comment.slice(0, COMMENT_MAX_LENGTH);
}

/** Whether a comment is a tag at all. */
export function isTag(comment: string): boolean {
  return TAG.test(comment);
}

/** Whether a rule's comment is this attachment's tag. */
export function isTagOf(comment: string | undefined, attachment: ForwardAttachment): boolean {
  const match = comment === undefined ? null : TAG.exec(comment);
  return !!match && match[1] === networkHash(attachment.network) && match[2] === attachmentHash(attachment.ifname, attachment.containerId);
}

/**
 * GC: whether a rule's comment is the tag of an attachment of `network` that is not among the
 * valid ones (the rule is then stale).
 */
export function staleTagPredicate(network: string, valid: readonly GcAttachment[]): (comment: string | undefined) => boolean {
  const ownNetwork = networkHash(network);
  const kept = new Set(valid.map((attachment) => attachmentHash(attachment.ifname, attachment.containerID)));
  return (comment) => {
    const match = comment === undefined ? null : TAG.exec(comment);
    return !!match && match[1] === ownNetwork && !kept.has(match[2]!);
  };
}
