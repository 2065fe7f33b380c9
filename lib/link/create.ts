import { CniError, ErrorCode } from "../core/index.ts";
import { NetlinkError, type NewLink, type Rtnetlink } from "../netlink/index.ts";

/**
 * The kernel module each link kind needs, for the message when this kernel lacks it. This
 * development host, for one, has no 8021q, ipvlan, vrf or dummy (ENVIRONMENT.md).
 */
const KIND_MODULES: Record<NewLink["kind"], string> = {
  bridge: "bridge",
  dummy: "dummy",
  ifb: "ifb",
  ipvlan: "ipvlan",
  macvlan: "macvlan",
  veth: "veth",
  vlan: "8021q",
  vrf: "vrf",
};

/**
 * Creates a link (read it back with linkByName in the namespace it was made in). A kind this
 * kernel cannot make ("Unknown device type", EOPNOTSUPP) is code 2 naming `field` (the
 * configuration key that asked for it), the kind and the module it needs.
 */
export function createLink(nl: Rtnetlink, spec: NewLink, field = "type"): void {
  try {
    nl.createLink(spec);
  } catch (error) {
    throw kernelLacks(error, spec.kind, field) ?? error;
  }
}

/** Code 2 for a NetlinkError saying this kernel lacks the link kind; undefined for any other error. */
export function kernelLacks(error: unknown, kind: NewLink["kind"], field: string): Error | undefined {
  if (!(error instanceof NetlinkError) || error.missingFeature !== kind) return undefined;
  const reason = `this kernel cannot create ${kind} links, which need the ${KIND_MODULES[kind]} module`;
  return new CniError(ErrorCode.UnsupportedField, `unsupported field ${field}: ${reason} (${error.message})`);
}
