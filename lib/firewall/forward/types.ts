import type { GcAttachment } from "../../types/index.ts";

/** The firewall plugin's backends: its own names, not masquerading's (iptables | nftables). */
export const FORWARD_BACKENDS = ["iptables", "firewalld"] as const;
export type ForwardBackendName = (typeof FORWARD_BACKENDS)[number];

/**
 * How a bridge is cut off from other bridges (the reference's ingressPolicy): "same-bridge"
 * drops traffic forwarded into the bridge from any other interface, "isolated" also drops
 * traffic between two ports of the bridge.
 */
export type IsolationPolicy = "same-bridge" | "isolated";

export interface BridgeIsolation {
  bridge: string;
  policy: IsolationPolicy;
}

/** The attachment the rules are for; its rules carry it (tag.ts), so DEL and GC need no addresses. */
export interface ForwardAttachment {
  network: string;
  containerId: string;
  ifname: string;
}

export interface ForwardAccessRequest {
  attachment: ForwardAttachment;
  /** The container's addresses with their prefix length ("10.1.2.3/24", "fd00::3/64"). */
  addresses: readonly string[];
  /** Set up the bridge's isolation too (iptables whatever the backend, as the reference). */
  isolation?: BridgeIsolation;
}

/**
 * Letting a container's forwarded traffic through the host's firewall, as one backend does it.
 * Every method is idempotent and synchronous.
 */
export interface ForwardAccessFeature {
  readonly backend: ForwardBackendName;
  setup(request: ForwardAccessRequest): void;
  /**
   * Removes what setup did for the attachment (found by its tag where the backend can tag, and
   * by these addresses) and nothing else; succeeds when it is gone already. A bridge's
   * isolation stays: other containers on the bridge rely on it.
   */
  teardown(attachment: ForwardAttachment, addresses: readonly string[]): void;
  /** Throws CniError 104 (CheckFailed) naming every piece that is missing. */
  check(request: ForwardAccessRequest): void;
  /** Removes the rules of the network's attachments that are not among the valid ones, where they can be told apart. */
  gc(network: string, validAttachments: readonly GcAttachment[]): void;
  /**
   * Throws CniError 50 (NotAvailable) saying why when the backend cannot work here; with
   * isolation, iptables must be usable too.
   */
  ensureUsable(withIsolation: boolean): void;
}
