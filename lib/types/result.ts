/**
 * The canonical in-memory result: the 1.1.0 shape, which holds everything every older version
 * can express. Conversions to and from each spec version's wire shape live in convert.ts.
 */
export interface Interface {
  name: string;
  mac?: string;
  mtu?: number;
  /** The netns path for container interfaces; absent for host interfaces. */
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}

export interface IPConfig {
  /** CIDR notation: the address and its prefix length ("10.1.0.5/24"). */
  address: string;
  gateway?: string;
  /** Index into Result.interfaces. */
  interface?: number;
}

export interface Route {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface DNS {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface Result {
  interfaces?: Interface[];
  ips?: IPConfig[];
  routes?: Route[];
  dns?: DNS;
}

/** One entry of GC's cni.dev/valid-attachments: an attachment still in use. */
export interface GcAttachment {
  containerID: string;
  ifname: string;
}
