import type { GcAttachment, WireResult } from "../types/index.ts";
import type { NetworkConfigList, PluginConfig } from "./conflist.ts";
import { marshalLikeGo } from "./go-json.ts";

export type { GcAttachment };

/**
 * The request configuration for ADD, DEL and CHECK (SPEC.md section 3, "Deriving request
 * configuration"), built as libcni builds it: the plugin's own keys as written, then `name` and
 * `cniVersion` of the list, `prevResult` when there is one, and `runtimeConfig` holding the
 * capability arguments the plugin declares, only if there are any (a static runtimeConfig in
 * the file is replaced then, kept otherwise). Like libcni, `capabilities` stays in, although
 * the spec says it must not be set. Keys are sorted at every depth, as libcni writes them.
 */
export function deriveAttachmentConfig(
  list: NetworkConfigList,
  plugin: PluginConfig,
  prevResult: WireResult | undefined,
  capabilityArgs: Readonly<Record<string, unknown>>,
): string {
  const config: Record<string, unknown> = { ...plugin.raw, name: list.name, cniVersion: list.cniVersion };
  if (prevResult) config.prevResult = prevResult;
  const runtimeConfig = runtimeConfigFor(plugin, capabilityArgs);
  if (Object.keys(runtimeConfig).length > 0) config.runtimeConfig = runtimeConfig;
  return marshalLikeGo(config);
}

/** SPEC.md "Deriving runtimeConfig": the capability arguments the plugin declares it takes. */
function runtimeConfigFor(plugin: PluginConfig, capabilityArgs: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const runtimeConfig: Record<string, unknown> = {};
  for (const capability of plugin.capabilities) {
    if (Object.hasOwn(capabilityArgs, capability)) runtimeConfig[capability] = capabilityArgs[capability];
  }
  return runtimeConfig;
}

/**
 * The request configuration for GC: the plugin's keys with the list's name and cniVersion and
 * the attachments still valid. libcni also writes them under "cni.dev/attachments", the name an
 * earlier text of the spec used (containernetworking/cni#1101); we do the same for plugins that
 * read that one.
 */
export function deriveGcConfig(list: NetworkConfigList, plugin: PluginConfig, validAttachments: readonly GcAttachment[]): string {
  const attachments = validAttachments.map(({ containerID, ifname }) => ({ containerID, ifname }));
  return marshalLikeGo({
    ...plugin.raw,
    name: list.name,
    cniVersion: list.cniVersion,
    "cni.dev/valid-attachments": attachments,
    "cni.dev/attachments": attachments,
  });
}

/** The request configuration for STATUS: the plugin's keys with the list's name and cniVersion. */
export function deriveStatusConfig(list: NetworkConfigList, plugin: PluginConfig): string {
  return marshalLikeGo({ ...plugin.raw, name: list.name, cniVersion: list.cniVersion });
}
