/** Whose spoof check: one attachment of a container (the reference's refID is "<containerId>-<ifname>"). */
export interface MacSpoofCheckAttachment {
  containerId: string;
  ifname: string;
}

export interface MacSpoofCheckRequest extends MacSpoofCheckAttachment {
  /** The host end of the container's veth pair: frames entering the bridge from it are checked. */
  hostInterface: string;
  /** The only source MAC allowed in frames from the container ("0a:58:0a:01:00:05"). */
  containerMac: string;
}

/** The spoof check as nft implements it; every method is idempotent and synchronous. */
export interface MacSpoofCheckFeature {
  setup(request: MacSpoofCheckRequest): void;
  /** Removes the attachment's chains and PREROUTING rule and nothing else; succeeds when there are none. */
  teardown(attachment: MacSpoofCheckAttachment): void;
  /** Throws CniError 104 (CheckFailed) naming every piece that is missing. */
  check(request: MacSpoofCheckRequest): void;
}
