export { FIREWALL_BACKENDS, chooseBackend, toolProbes, type BackendProbes, type FirewallBackendName } from "./backend.ts";
export { commandExecutor, type ToolExecutor, type ToolOutput } from "./exec.ts";
export { openFirewall, selectFirewall, type Firewall, type FirewallOptions } from "./firewall.ts";
export { checkMasquerade, gcMasquerade, setupMasquerade, teardownMasquerade } from "./masquerade/index.ts";
export type { MasqueradeAttachment, MasqueradeFeature, MasqueradeRequest } from "./masquerade/types.ts";
export { formatChainName, formatComment } from "./names.ts";
export { checkPortMappings, gcPortMappings, setupPortMappings, teardownPortMappings } from "./portmap/index.ts";
export { PORT_PROTOCOLS } from "./portmap/types.ts";
export { clearStaleUdpEntries, CTNETLINK, deleteUdpEntries } from "./conntrack/index.ts";
export type { PortMapAttachment, PortMapFeature, PortMapping, PortMapRequest, PortMapSettings, PortProtocol } from "./portmap/types.ts";
export { checkMacSpoofCheck, setupMacSpoofCheck, teardownMacSpoofCheck, type SpoofCheckOptions } from "./spoofcheck/index.ts";
export type { MacSpoofCheckAttachment, MacSpoofCheckFeature, MacSpoofCheckRequest } from "./spoofcheck/types.ts";
export {
  checkForwardAccess,
  ensureForwardAccessUsable,
  gcForwardAccess,
  selectForwardAccess,
  setupForwardAccess,
  teardownForwardAccess,
  type ForwardAccessOptions,
} from "./forward/index.ts";
export { FORWARD_BACKENDS } from "./forward/types.ts";
export { DEFAULT_FIREWALLD_ZONE } from "./forward/firewalld.ts";
export { DEFAULT_ADMIN_CHAIN, FORWARD_CHAIN } from "./forward/iptables.ts";
export type { BridgeIsolation, ForwardAccessFeature, ForwardAccessRequest, ForwardAttachment, ForwardBackendName, IsolationPolicy } from "./forward/types.ts";
