import type { GcAttachment } from "../../types/index.ts";

/** Whose masquerading: one attachment of a container to a network. */
export interface MasqueradeAttachment {
  network: string;
  containerId: string;
  ifname: string;
}

export interface MasqueradeRequest extends MasqueradeAttachment {
  /** The container's addresses with their prefix length ("10.1.2.3/24", "fd00::3/64"). */
  addresses: readonly string[];
}

/**
 * Masquerading of a container's traffic to destinations outside its own subnets, as one
 * backend implements it. Every method is idempotent and synchronous.
 */
export interface MasqueradeFeature {
  setup(request: MasqueradeRequest): void;
  /**
   * Removes this attachment's rules and nothing else; succeeds when there are none. Addresses
   * are optional: the rules are found by name and comment. With addresses, failing to even
   * list the rules of their IP family is an error; without, such a family is skipped.
   */
  teardown(attachment: MasqueradeAttachment & { addresses?: readonly string[] }): void;
  /** Throws CniError 104 (CheckFailed) naming every rule that is missing. */
  check(request: MasqueradeRequest): void;
  /** Removes the rules of the network's attachments that are not in `validAttachments`. */
  gc(network: string, validAttachments: readonly GcAttachment[]): void;
}
