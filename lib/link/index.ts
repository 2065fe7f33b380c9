/**
 * The link layer (the role Go's pkg/ns and pkg/ip play for the reference plugins): the
 * attachment context, veth pairs, link creation that says which module a kernel lacks, waiting
 * for a link to come up, MTU and MAC, DEL in the order IPAM needs, and configuring a container
 * interface from an IPAM result. See README.md.
 */
export {
  closeAttachment,
  openAttachment,
  openDelAttachment,
  withAttachment,
  withDelAttachment,
  type Attachment,
  type ContainerGone,
  type DelAttachment,
} from "./attachment.ts";
export { applyIpamResult, checkInterfaceAddresses, checkLinkMac, checkRoutes } from "./configure.ts";
export { createLink, kernelLacks } from "./create.ts";
export { deleteLinkByName, deleteOrphanedHostVeth, interfaceAddresses, releaseAndDeleteInterface } from "./delete.ts";
export { randomLinkName } from "./names.ts";
export { isRefusedValue, setMac, setMtu } from "./settings.ts";
export { createTap } from "./tap.ts";
export { createVethPair, type VethPair, type VethPairSpec } from "./veth.ts";
export { waitUntilUp } from "./wait.ts";
export {
  checkParent,
  createLinkOnMaster,
  defaultRouteInterface,
  lookupMaster,
  requireMtuWithinMaster,
  resolveMaster,
  type LinkOnMaster,
  type Master,
  type MasterChoice,
} from "./master.ts";
