import { type IpFamily, type Prefix, bytesToIp, ipToBytes, parsePrefix } from "./addr-bytes.ts";
import { attr, withOptional } from "./attributes.ts";
import {
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_F_DADFAILED,
  IFA_F_NODAD,
  IFA_F_PERMANENT,
  IFA_F_TENTATIVE,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  RT_SCOPE_UNIVERSE,
  RTM_DELADDR,
  RTM_GETADDR,
  RTM_NEWADDR,
} from "./constants.ts";
import { addressFamily, ipFamilyOf } from "./family.ts";
import { ifaddrmsg } from "./headers.ts";
import { type NetlinkMessage, type Request, decodeBody, request } from "./message.ts";

/** An address on a link, as the kernel reports it. */
export interface Address {
  index: number;
  family: IpFamily;
  address: string;
  prefixLength: number;
  /** RT_SCOPE_* (0 universe, 253 link, 254 host). */
  scope: number;
  /** IFA_F_* flags (the 32-bit IFA_FLAGS when present). */
  flags: number;
  /** IPv6 duplicate address detection is still running. */
  tentative: boolean;
  dadFailed: boolean;
  noDad: boolean;
  permanent: boolean;
  label?: string;
  broadcast?: string;
}

export interface NewAddress {
  index: number;
  address: string;
  prefixLength: number;
  /** Skip IPv6 duplicate address detection (IFA_F_NODAD); meaningless for IPv4 and not sent there. */
  noDad?: boolean;
  scope?: number;
  /**
   * IPv4 broadcast address. When left out it is computed from the prefix, as `ip addr add ... brd +`
   * and the reference plugins' netlink library do (none for /31 and /32).
   */
  broadcast?: string;
}

export type AddressSelector = Pick<NewAddress, "index" | "address" | "prefixLength">;

export function addAddressRequest(address: NewAddress): Request {
  const { family, bytes: local, prefixLength } = parseAddress(address);
  const broadcast =
    family === 6
      ? undefined
      : address.broadcast === undefined
        ? broadcastOf(local, prefixLength)
        : ipToBytes(address.broadcast);
  return request(
    RTM_NEWADDR,
    NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK,
    ifaddrmsg.encode({
      family: addressFamily(family),
      prefixlen: prefixLength,
      flags: family === 6 && address.noDad ? IFA_F_NODAD : 0,
      scope: address.scope ?? RT_SCOPE_UNIVERSE,
      index: address.index,
    }),
    // IFA_LOCAL is the address itself; IFA_ADDRESS the peer, which is the same on non point-to-point links.
    [attr.bytes(IFA_LOCAL, local), attr.bytes(IFA_ADDRESS, local), attr.bytes(IFA_BROADCAST, broadcast)],
  );
}

export function deleteAddressRequest(address: AddressSelector): Request {
  const { family, bytes: local, prefixLength } = parseAddress(address);
  return request(
    RTM_DELADDR,
    NLM_F_ACK,
    ifaddrmsg.encode({ family: addressFamily(family), prefixlen: prefixLength, index: address.index }),
    [attr.bytes(IFA_LOCAL, local), attr.bytes(IFA_ADDRESS, local)],
  );
}

export function dumpAddressesRequest(family?: IpFamily): Request {
  return request(RTM_GETADDR, NLM_F_DUMP, ifaddrmsg.encode({ family: addressFamily(family) }));
}

/** Decodes an RTM_NEWADDR message; undefined for families other than IPv4/IPv6. */
export function decodeAddress(message: NetlinkMessage): Address | undefined {
  const { header, attributes } = decodeBody(message, ifaddrmsg);
  const family = ipFamilyOf(header.family);
  if (family === undefined) return undefined;
  // IFA_LOCAL is only present for IPv4 (and IPv6 point-to-point); IFA_ADDRESS otherwise.
  const local = attributes.bytes(IFA_LOCAL) ?? attributes.bytes(IFA_ADDRESS);
  if (local === undefined) return undefined;
  const flags = attributes.u32(IFA_FLAGS) ?? header.flags;
  const broadcast = attributes.bytes(IFA_BROADCAST);
  const address: Address = {
    index: header.index,
    family,
    address: bytesToIp(local),
    prefixLength: header.prefixlen,
    scope: header.scope,
    flags,
    tentative: (flags & IFA_F_TENTATIVE) !== 0,
    dadFailed: (flags & IFA_F_DADFAILED) !== 0,
    noDad: (flags & IFA_F_NODAD) !== 0,
    permanent: (flags & IFA_F_PERMANENT) !== 0,
  };
  return withOptional(address, { label: attributes.string(IFA_LABEL), broadcast: broadcast && bytesToIp(broadcast) });
}

export function formatAddress(address: AddressSelector): string {
  return `${address.address}/${address.prefixLength}`;
}

/** Validates the address and its prefix length together. */
function parseAddress(address: AddressSelector): Prefix {
  return parsePrefix(formatAddress(address));
}

/** The all-ones host part, for prefixes that leave room for a network and a broadcast address. */
function broadcastOf(local: Uint8Array, prefixLength: number): Uint8Array | undefined {
  if (prefixLength >= 31) return undefined;
  const value = ((local[0]! << 24) | (local[1]! << 16) | (local[2]! << 8) | local[3]!) >>> 0;
  const hostMask = prefixLength === 0 ? 0xffffffff : (1 << (32 - prefixLength)) - 1;
  const broadcast = (value | hostMask) >>> 0;
  return Uint8Array.of(broadcast >>> 24, (broadcast >>> 16) & 0xff, (broadcast >>> 8) & 0xff, broadcast & 0xff);
}
