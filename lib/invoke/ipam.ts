import { CniError, ErrorCode } from "../core/index.ts";
import type { AttachmentRequest, NetConf, NetworkRequest, Rollback } from "../skel/index.ts";
import type { IPConfig, Result } from "../types/index.ts";
import { delegateAdd, delegateCheck, delegateDel, delegateGc, delegateStatus } from "./delegate.ts";

/** An IPAM result with at least one address, as every main plugin needs one. */
export interface IpamResult extends Result {
  ips: [IPConfig, ...IPConfig[]];
}

/**
 * The IPAM plugin of a main plugin's configuration (`ipam.type`), bound to the request's
 * attachment. A main plugin gets one from `Ipam.of(request)`: undefined means no IPAM (no
 * `ipam`, or `"ipam": {}` as the reference's layer-2 examples write it).
 *
 * The order that works for every IPAM: ADD before the addresses are applied; on DEL, `del`
 * BEFORE the container interface is deleted (a DHCP IPAM needs the interface to send its
 * release), which lib/link's releaseAndDeleteInterface makes the natural order.
 */
export class Ipam {
  private constructor(
    readonly type: string,
    private readonly request: AttachmentRequest<NetConf>,
  ) {}

  static of(request: AttachmentRequest<NetConf>): Ipam | undefined {
    const type = ipamType(request.config);
    return type === undefined ? undefined : new Ipam(type, request);
  }

  /**
   * IPAM ADD. Registers the matching DEL on `rollback`, so a later failure of the ADD gives the
   * addresses back. A result without any address is code 102.
   */
  async add(rollback: Rollback): Promise<IpamResult> {
    const result = await delegateAdd(this.type, this.request);
    rollback.add(`${this.type} reservation`, () => this.del());
    const [first, ...rest] = result.ips ?? [];
    if (!first) throw new CniError(ErrorCode.DelegateFailed, `${this.type} returned no IP address`);
    return { ...result, ips: [first, ...rest] };
  }

  del(): Promise<void> {
    return delegateDel(this.type, this.request);
  }

  check(): Promise<void> {
    return delegateCheck(this.type, this.request);
  }
}

/** STATUS of the configuration's IPAM plugin; nothing to ask without one. */
export async function ipamStatus(request: NetworkRequest<NetConf>): Promise<void> {
  const type = ipamType(request.config);
  if (type !== undefined) await delegateStatus(type, request);
}

/** GC of the configuration's IPAM plugin; nothing to collect without one. */
export async function ipamGc(request: NetworkRequest<NetConf>): Promise<void> {
  const type = ipamType(request.config);
  if (type !== undefined) await delegateGc(type, request);
}

/** `ipam.type`, or undefined for no IPAM: no `ipam` key, or an empty type. */
export function ipamType(config: NetConf): string | undefined {
  return config.ipam?.type || undefined;
}
