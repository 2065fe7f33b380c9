/**
 * The parts of `ip -j` and `bridge -j` output the guest tests look at, as the guest's `snapshot`
 * helper records them (iproute2 6.1, the host's own, run inside the guest).
 */
export interface IpLink {
  ifindex: number;
  ifname: string;
  /** The peer or lower device, when it is in the same namespace. */
  link?: string;
  master?: string;
  address?: string;
  operstate: string;
  mtu: number;
  flags: string[];
  linkinfo?: {
    info_kind?: string;
    info_data?: Record<string, unknown>;
    info_slave_kind?: string;
    info_slave_data?: Record<string, unknown>;
  };
}

export interface IpAddressInfo {
  family: "inet" | "inet6";
  local: string;
  prefixlen: number;
  scope: string;
}

export interface IpAddresses {
  ifname: string;
  addr_info: IpAddressInfo[];
}

export interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  flags: string[];
}

export interface BridgeVlan {
  vlan: number;
  /** Flags such as "PVID" and "Egress Untagged"; absent when the VLAN is plain tagged. */
  flags?: string[];
}

export interface BridgePortVlans {
  ifname: string;
  vlans: BridgeVlan[];
}

export interface GuestState {
  links: IpLink[];
  addresses: IpAddresses[];
  /** IPv4 then IPv6 routes of the main table. */
  routes: IpRoute[];
  /** Bridge ports (and bridges) with their VLANs; empty in a container's snapshot. */
  vlans: BridgePortVlans[];
}

/** Parses the files of one snapshot; `read` returns a file by its suffix, undefined if absent. */
export function readState(read: (suffix: string) => string | undefined): GuestState {
  const parse = <T>(text: string | undefined): T[] => (text?.trim() ? (JSON.parse(text) as T[]) : []);
  const [links, addresses, routes4] = (read("ip.jsonl") ?? "").split("\n");
  return {
    links: parse<IpLink>(links),
    addresses: parse<IpAddresses>(addresses),
    routes: [...parse<IpRoute>(routes4), ...parse<IpRoute>(read("routes6.json"))],
    vlans: parse<BridgePortVlans>(read("vlans.json")),
  };
}

/** A port's VLANs as compact text, e.g. ["1 PVID untagged", "10"], for readable assertions. */
export function portVlans(state: GuestState, ifname: string): string[] | undefined {
  const port = state.vlans.find((entry) => entry.ifname === ifname);
  return port?.vlans.map(describeVlan);
}

function describeVlan(vlan: BridgeVlan): string {
  const flags = (vlan.flags ?? []).map((flag) => (flag === "Egress Untagged" ? "untagged" : flag));
  return [String(vlan.vlan), ...flags].join(" ");
}
