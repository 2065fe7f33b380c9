export {
  CniRuntime,
  DEFAULT_TIMEOUT_MS,
  type CallOptions,
  type GcArgs,
  type NetworkAttachment,
  type RuntimeConf,
  type RuntimeOptions,
} from "./runtime.ts";
export {
  networkConfigListFromBytes,
  networkConfigListFromFile,
  networkConfigListFromPluginFile,
  type NetworkConfigList,
  type PluginConfig,
} from "./conflist.ts";
export { findNetwork, loadNetworkDirectory, loadNetworkList, type ConfigFileEntry, type NetworkDirectory } from "./load.ts";
export { deriveAttachmentConfig, deriveGcConfig, deriveStatusConfig, type GcAttachment } from "./derive.ts";
export { CACHE_KIND, DEFAULT_CACHE_DIR, ResultCache, type CacheEntry, type CacheKey } from "./cache.ts";
export type { AttachmentResult } from "./result.ts";
export type { PluginVersionInfo } from "./version.ts";
export * from "./errors.ts";
export { runCnitool, type CnitoolIO } from "./cli.ts";
