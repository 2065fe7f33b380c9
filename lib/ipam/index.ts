/**
 * The host-local IP address manager: configuration, allocation order and the disk store, kept
 * compatible with the reference plugin so both can share one data directory.
 *
 * - config.ts: `ranges`, the legacy single range, `ipRanges`, routes, dataDir, resolvConf, turned
 *   into validated range sets with the reference's defaults (code 7 naming field and value).
 * - requested.ts: addresses asked for via CNI_ARGS IP, args.cni.ips and runtimeConfig.ips.
 * - allocator.ts: the reference's round-robin order after last_reserved_ip.<range set>.
 * - store.ts, lease.ts: the reference's files, under its flock'ed `lock`.
 * - owner-index.ts: our index from attachment to lease files, so DEL/CHECK read one small file
 *   however many leases exist; the reference can never mistake it for a lease, and a fence on the
 *   directory's mtime tells us when the reference changed leases, which makes us rescan.
 * - host-local.ts: ADD, CHECK, GC and STATUS on a locked store.
 */
export { allocate, candidates, toIPConfig, type AddressStore, type Allocation, type Attachment } from "./allocator.ts";
export {
  DEFAULT_DATA_DIR,
  normalizeIpamConfig,
  normalizeRoute,
  type HostLocalInput,
  type IpamConfig,
  type IpamInput,
  type RangeInput,
  type RouteInput,
} from "./config.ts";
export { allocateAll, checkAttachment, collectGarbage, exhaustedRangeSets } from "./host-local.ts";
export { attachmentKey, containerKey, LINE_BREAK } from "./lease.ts";
export { OWNER_INDEX_DIR, OWNER_INDEX_MAGIC } from "./owner-index.ts";
export { AddressRange, RangeSet } from "./range.ts";
export { planRequestedIPs, requestedFromCniArgs, requestedFromConfig, type RequestedIP, type RequestPlan } from "./requested.ts";
export { parseResolvConf } from "./resolv-conf.ts";
export { HostLocalStore, type Lease } from "./store.ts";
