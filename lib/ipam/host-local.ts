import type { IPAddress } from "../ip/index.ts";
import { CniError, ErrorCode } from "../core/index.ts";
import { allocate, type Allocation, type Attachment } from "./allocator.ts";
import type { IpamConfig } from "./config.ts";
import { attachmentKey, containerKey, parseLeaseKey } from "./lease.ts";
import type { RequestPlan } from "./requested.ts";
import type { HostLocalStore, Lease } from "./store.ts";

/**
 * The host-local operations on a locked store: what ADD, CHECK, GC and STATUS do with leases
 * (DEL is HostLocalStore.release).
 */

/**
 * Allocates one address per range set, in order, raising the problems of the request plan at the
 * point the reference raises them. When anything fails, the addresses this call reserved are
 * released again (the reference releases every lease of the attachment there; we keep leases
 * that existed before this call); last_reserved_ip files keep what was reserved, as in the
 * reference.
 */
export function allocateAll(store: HostLocalStore, config: IpamConfig, attachment: Attachment, plan: RequestPlan): Allocation[] {
  const allocations: Allocation[] = [];
  try {
    config.rangeSets.forEach((set, index) => {
      const request = plan.perRangeSet[index];
      if (request instanceof CniError) throw request;
      allocations.push(allocate(store, set, index, attachment, request));
    });
    if (plan.leftover) throw plan.leftover;
  } catch (error) {
    for (const { ip } of allocations) store.unreserve(ip, attachment);
    throw error;
  }
  return allocations;
}

/** CHECK: the attachment must hold an address of every range set (code 104 naming those it lacks). */
export function checkAttachment(store: HostLocalStore, config: IpamConfig, attachment: Attachment): void {
  const held = store.findLeases(attachment);
  const missing = config.rangeSets.flatMap((set, index) =>
    held.some((ip) => set.contains(ip)) ? [] : [`range set ${index} (${set})`],
  );
  if (missing.length > 0) {
    throw new CniError(
      ErrorCode.CheckFailed,
      `container ${attachment.containerId} interface ${attachment.ifname} holds no address from ${missing.join(", ")} in ${store.dir}`,
    );
  }
}

/**
 * GC: releases every lease whose attachment is not listed. A lease in the oldest format (container
 * ID only) stays while any listed attachment has its container ID. Returns what was released.
 */
export function collectGarbage(store: HostLocalStore, valid: readonly Attachment[]): Lease[] {
  const validKeys = new Set(valid.map(attachmentKey));
  const validContainers = new Set(valid.map(containerKey));
  const stale = store.scan().filter((lease) => {
    const { containerId, ifname } = parseLeaseKey(lease.key);
    return ifname === undefined ? !validContainers.has(containerId) : !validKeys.has(lease.key);
  });
  for (const lease of stale) store.releaseLease(lease);
  return stale;
}

/**
 * STATUS: the range sets that have no free address left, given the reserved addresses. Each
 * range's own gateway is neither free nor counted, as the allocator skips it.
 */
export function exhaustedRangeSets(config: IpamConfig, reserved: readonly IPAddress[]): number[] {
  return config.rangeSets.flatMap((set, index) => {
    const taken = reserved.filter((ip) => {
      const range = set.rangeFor(ip);
      return range !== undefined && !ip.equals(range.gateway);
    }).length;
    return BigInt(taken) >= set.capacity ? [index] : [];
  });
}
