import { z } from "zod";
import { parseMac } from "../../lib/core/index.ts";
import { invalidConfig, netConfSchema, parseWithSchema, type CniArgs, type ConfigContext, type NetConf } from "../../lib/skel/index.ts";

/**
 * tap's configuration: the schema of what users write (exported for JSON Schema generation) and
 * its resolution, with the MAC from every source in the reference's order.
 */

const uint32 = z.number().int().min(0).max(2 ** 32 - 1);

export const tapConfigSchema = netConfSchema.extend({
  mac: z.string().nullish().describe('MAC address of the tap ("c2:b0:57:49:47:f1"; the other spellings Go accepts too)'),
  mtu: z.number().int().min(0).max(2 ** 31 - 1).nullish().describe("MTU of the tap (0: the kernel's default)"),
  multiQueue: z.boolean().nullish().describe("Create a multi-queue tap (IFF_MULTI_QUEUE): every process attaching must ask for it too"),
  owner: uint32.nullish().describe("User ID allowed to attach to the tap (default: anyone with CAP_NET_ADMIN)"),
  group: uint32.nullish().describe("Group ID allowed to attach to the tap"),
  selinuxContext: z.string().nullish().describe("SELinux context the tap is created with (when SELinux is enabled)"),
  bridge: z.string().nullish().describe("A bridge in the container's namespace to make the tap a port of"),
  runtimeConfig: z.looseObject({ mac: z.string().nullish().describe("The mac capability: MAC address of the tap") }).optional(),
});

export interface TapConfig extends NetConf {
  mtu: number;
  multiQueue: boolean;
  owner?: number;
  group?: number;
  selinuxContext?: string;
  bridge?: string;
  /** ADD: the MAC from the last source that gives one (kernel spelling); undefined: the kernel's. */
  mac?: string;
}

/** The CNI_ARGS key the reference reads a MAC from. */
const CNI_ARGS_MAC = "MAC";

export function parseTapConfig(raw: Record<string, unknown>, context: ConfigContext): TapConfig {
  const input = parseWithSchema(tapConfigSchema, raw);
  const config: TapConfig = {
    ...input,
    mtu: input.mtu ?? 0,
    multiQueue: input.multiQueue ?? false,
    owner: input.owner ?? undefined,
    group: input.group ?? undefined,
    selinuxContext: input.selinuxContext || undefined,
    bridge: input.bridge || undefined,
    mac: undefined,
  };
  if (context.command === "ADD" && context.attachment) config.mac = resolveMac(input.mac, input.runtimeConfig?.mac, context.attachment.args);
  return config;
}

/** The configuration's mac, then CNI_ARGS MAC, then the mac capability: the last non-empty one wins. */
function resolveMac(configured: string | null | undefined, capability: string | null | undefined, args: CniArgs): string | undefined {
  args.requireKnown([CNI_ARGS_MAC]);
  const sources: [field: string, value: string | null | undefined][] = [
    ["mac", configured],
    [`CNI_ARGS ${CNI_ARGS_MAC}`, args.get(CNI_ARGS_MAC)],
    ["runtimeConfig.mac", capability],
  ];
  const [field, value] = sources.filter(([, candidate]) => !!candidate).at(-1) ?? [];
  if (field === undefined || !value) return undefined;
  const mac = parseMac(value);
  if (!mac) throw invalidConfig(field, value, "must be a MAC address like c2:b0:57:49:47:f1");
  return mac;
}
