import type { GcAttachment } from "../../types/index.ts";

export const PORT_PROTOCOLS = ["tcp", "udp", "sctp"] as const;
export type PortProtocol = (typeof PORT_PROTOCOLS)[number];

/** One entry of the portMappings capability, validated: ports 1-65535, protocol lower case. */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: PortProtocol;
  /**
   * Only traffic to this host address is forwarded, and only to a container address of the same
   * family; "0.0.0.0" and "::" mean every address of that family. Absent: every address.
   */
  hostIP?: string;
}

/** Whose port mappings: a container's attachment to a network (the reference ignores ifname). */
export interface PortMapAttachment {
  network: string;
  containerId: string;
}

/** How mapped traffic is masqueraded, and the extra match conditions: the plugin's options. */
export interface PortMapSettings {
  /** Masquerade hairpin and localhost traffic to the container (reference option `snat`). */
  snat: boolean;
  /** Masquerade traffic from every source, not only hairpin and localhost. */
  masqAll: boolean;
  /** iptables: the mark bit CNI-HOSTPORT-SETMARK sets and CNI-HOSTPORT-MASQ masquerades on. */
  markMasqBit: number;
  /** iptables: a chain of someone else's that marks for masquerading, used instead of ours. */
  externalSetMarkChain?: string;
  /** Extra matches per family, in the backend's own syntax (iptables arguments or nft words). */
  conditionsV4: readonly string[];
  conditionsV6: readonly string[];
}

export interface PortMapRequest extends PortMapAttachment {
  /** The container's addresses with prefix length, at most one per family ("10.1.2.3/24"). */
  addresses: readonly string[];
  mappings: readonly PortMapping[];
  settings: PortMapSettings;
}

/**
 * Forwarding of host ports to a container, as one backend implements it. Every method is
 * synchronous and idempotent; shared chains and tables are created when missing and never
 * removed, as in the reference.
 */
export interface PortMapFeature {
  setup(request: PortMapRequest): void;
  /** Throws CniError 104 (CheckFailed) naming every rule that is missing. */
  check(request: PortMapRequest): void;
  /** Removes this attachment's rules of both IP families; succeeds when there are none. */
  teardown(attachment: PortMapAttachment): void;
  /** Removes the rules of the network's attachments not in `validAttachments`, where the layout tells whose they are. */
  gc(network: string, validAttachments: readonly GcAttachment[]): void;
}
