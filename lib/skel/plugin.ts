import type { z } from "zod";
import type { CniVersion } from "../types/version.ts";
import type { GcAttachment, Result } from "../types/result.ts";
import type { CniArgs } from "./args.ts";
import type { NetConf } from "./config.ts";

/** What ADD, DEL and CHECK receive: the attachment, its environment and the parsed config. */
export interface AttachmentRequest<C> {
  command: "ADD" | "DEL" | "CHECK";
  containerId: string;
  /** Path of the container's network namespace; empty on a DEL without CNI_NETNS. */
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
}

export interface PluginDefinition<C extends NetConf = NetConf> {
  name: string;
  /** One line printed on stderr when a person runs the executable without CNI_COMMAND. */
  about: string;
  /** Spec versions the plugin speaks; all of them unless narrowed. */
  versions?: readonly CniVersion[];
  /** The zod schema of the plugin's configuration, from which schemas/<name>.json is generated. */
  configSchema?: z.ZodType;
  /** Turns the decoded stdin into the plugin's typed configuration (throws CniError code 7). */
  parseConfig(raw: Record<string, unknown>, command: AttachmentRequest<C>["command"] | NetworkRequest<C>["command"]): C;
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
