import type { Attachment } from "./allocator.ts";

/**
 * The reference's lease file format: a file named after the address, holding
 * "<containerID>\r\n<ifname>" (files from before 0.7 hold only "<containerID>"). Files are
 * matched by their content with surrounding whitespace trimmed (Go's strings.TrimSpace), and
 * that trimmed content is what this module calls a lease key.
 */

export const LINE_BREAK = "\r\n";

// Go's unicode.IsSpace set (JavaScript's trim() differs: it trims U+FEFF and not U+0085).
const GO_SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const GO_TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, "g");

export function goTrimSpace(text: string): string {
  return text.replace(GO_TRIM, "");
}

/** What a lease file for this attachment holds, which is also the key it is found by. */
export function attachmentKey(attachment: Attachment): string {
  return `${goTrimSpace(attachment.containerId)}${LINE_BREAK}${attachment.ifname}`;
}

/** The key of leases in the oldest format, which name only the container. */
export function containerKey(attachment: Attachment): string {
  return goTrimSpace(attachment.containerId);
}

/** The lease key of a file's content. */
export function leaseKey(content: string): string {
  return goTrimSpace(content);
}

/** Splits a lease key into its container ID and, unless it is in the oldest format, interface. */
export function parseLeaseKey(key: string): { containerId: string; ifname: string | undefined } {
  const lineBreak = key.indexOf(LINE_BREAK);
  if (lineBreak < 0) return { containerId: key, ifname: undefined };
  return { containerId: key.slice(0, lineBreak), ifname: key.slice(lineBreak + LINE_BREAK.length) };
}
