import type { z } from "zod";
import { invalidConfig } from "../core/index.ts";
import type { CniVersion, GcAttachment, Result } from "../types/index.ts";
import type { CniArgs } from "./args.ts";
import type { NetConf } from "./config.ts";

/** What ADD, DEL and CHECK receive: the attachment, its environment and the parsed config. */
export interface AttachmentRequest<C> {
  command: "ADD" | "DEL" | "CHECK";
  containerId: string;
  /**
   * Path of the container's network namespace. On ADD and CHECK it is one (the dispatcher
   * checked, code 4 otherwise); on DEL it may be empty, gone, or no longer a namespace: open it
   * with lib/link's withDelAttachment, which says so in its type.
   */
  netns: string;
  ifname: string;
  args: CniArgs;
  /** CNI_PATH, split into directories. */
  path: string[];
  cniVersion: CniVersion;
  config: C;
  /** prevResult, decoded from whatever version it was written in. */
  prevResult: Result | undefined;
  /** The configuration exactly as received, for delegation to IPAM plugins. */
  stdin: Buffer;
  /** How to load the suite's own plugins, when the entry point offers it: see OwnPluginLoader. */
  ownPlugins?: OwnPluginLoader;
}

export type { GcAttachment };

/** What STATUS and GC receive: no attachment, only the network's configuration. */
export interface NetworkRequest<C> {
  command: "STATUS" | "GC";
  path: string[];
  cniVersion: CniVersion;
  config: C;
  stdin: Buffer;
  /** GC only: cni.dev/valid-attachments. */
  validAttachments: GcAttachment[];
  /** How to load the suite's own plugins, when the entry point offers it: see OwnPluginLoader. */
  ownPlugins?: OwnPluginLoader;
}

/**
 * Loads one of the suite's own plugins by name (undefined for a name the suite does not have).
 * The entry point of the compiled executable passes it to runPlugin, so that a delegate that is
 * this very executable runs inside this process (lib/invoke's inProcessExecutor); lib never
 * imports plugins/ itself.
 */
export type OwnPluginLoader = (type: string) => Promise<PluginDefinition | undefined>;

/** What parseConfig knows besides the configuration. */
export interface ConfigContext {
  command: AttachmentRequest<unknown>["command"] | NetworkRequest<unknown>["command"];
  /** ADD, DEL and CHECK only: what of the attachment a configuration may depend on. */
  attachment?: {
    /** CNI_ARGS, for keys that configure the attachment (MAC, IP). */
    args: CniArgs;
    /** CNI_IFNAME, for settings that name the interface (tuning's sysctls). */
    ifname: string;
  };
  /** The configuration exactly as received. */
  stdin: Buffer;
}

export interface PluginDefinition<C extends NetConf = NetConf> {
  name: string;
  /** One line printed on stderr when a person runs the executable without CNI_COMMAND. */
  about: string;
  /** Spec versions the plugin speaks; all of them unless narrowed. */
  versions?: readonly CniVersion[];
  /** The zod schema of the plugin's configuration, from which schemas/<name>.json is generated. */
  configSchema?: z.ZodType;
  /**
   * Turns the decoded stdin into the plugin's configuration, resolved once for the command:
   * defaults applied, cross-field rules and CNI_ARGS checked (code 7, or 4 for CNI_ARGS), so
   * ADD, DEL, CHECK, STATUS and GC work on the result without resolving again.
   */
  parseConfig(raw: Record<string, unknown>, context: ConfigContext): C;
  add(request: AttachmentRequest<C>): Promise<Result>;
  del(request: AttachmentRequest<C>): Promise<void>;
  check(request: AttachmentRequest<C>): Promise<void>;
  /** Defaults to "ready". */
  status?(request: NetworkRequest<C>): Promise<void>;
  /** Defaults to "nothing to collect". */
  gc?(request: NetworkRequest<C>): Promise<void>;
}

export function definePlugin<C extends NetConf>(definition: PluginDefinition<C>): PluginDefinition<C> {
  return definition;
}

/**
 * prevResult of a chained plugin's request, or code 7 naming prevResult with `why` it is needed
 * ("tuning is a chained plugin and needs the result of the plugin before it").
 */
export function requirePrevResult(request: { prevResult: Result | undefined }, why: string): Result {
  if (request.prevResult) return request.prevResult;
  throw invalidConfig("prevResult", undefined, why);
}
