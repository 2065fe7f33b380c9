import { z } from "zod";
import { parseMac } from "../../lib/core/index.ts";
import type { MacvlanMode } from "../../lib/netlink/index.ts";
import { invalidConfig, netConfSchema, parseWithSchema, type ConfigContext } from "../../lib/skel/index.ts";

/** "0a:58:0a:01:00:05": parseMac also takes the 8- and 20-byte addresses a macvlan cannot have. */
const ETHERNET_MAC_LENGTH = 17;

const MODES = ["bridge", "private", "vepa", "passthru"] as const satisfies readonly MacvlanMode[];

export const macvlanConfigSchema = netConfSchema.extend({
  master: z
    .string()
    .max(15, "an interface name is at most 15 bytes")
    .optional()
    .describe("Interface the macvlan hangs off (default: the interface of the default route)"),
  mode: z
    .enum([...MODES, ""])
    .default("bridge")
    .describe('How macvlans on one master reach each other: bridge, private, vepa or passthru ("": bridge)'),
  mtu: z.number().int().min(0).max(2 ** 31 - 1).default(0).describe("MTU of the macvlan, at most the master's (0: the master's)"),
  mac: z.string().optional().describe("MAC address of the container interface"),
  linkInContainer: z.boolean().default(false).describe("Look the master up inside the container's namespace instead of the host's"),
  bcqueuelen: z.number().int().min(0).max(2 ** 32 - 1).optional().describe("Length of the macvlan's broadcast/multicast queue (0 or unset: the kernel's)"),
  args: z
    .looseObject({ cni: z.looseObject({ mac: z.string().optional() }).optional() })
    .optional()
    .describe("args.cni.mac: MAC address of the container interface"),
  runtimeConfig: z
    .looseObject({ mac: z.string().optional() })
    .optional()
    .describe("The mac capability: MAC address of the container interface"),
});

export type MacvlanConfigInput = z.infer<typeof macvlanConfigSchema>;

/** The configuration with the MAC sources merged and the mode named, ready to act on. */
export interface MacvlanConfig extends MacvlanConfigInput {
  mode: (typeof MODES)[number];
  /** runtimeConfig.mac, else args.cni.mac, else CNI_ARGS MAC, else mac (the kernel's spelling). */
  mac?: string;
}

/**
 * Parses the configuration: "" for master means the default route's interface and "" for mode
 * bridge, as in the reference; every source of the MAC is checked and the strongest wins.
 */
export function parseMacvlanConfig(raw: Record<string, unknown>, context: ConfigContext): MacvlanConfig {
  const input = parseWithSchema(macvlanConfigSchema, raw);
  const sources: [string, string | undefined][] = [
    ["runtimeConfig.mac", input.runtimeConfig?.mac],
    ["args.cni.mac", input.args?.cni?.mac],
  ];
  if (context.attachment) {
    context.attachment.args.requireKnown(["MAC"]);
    sources.push(["CNI_ARGS MAC", context.attachment.args.get("MAC")]);
  }
  sources.push(["mac", input.mac]);
  return {
    ...input,
    master: input.master || undefined,
    mode: input.mode || "bridge",
    mac: strongestMac(sources),
  };
}

/** The first MAC given, in order of precedence; every one given must be an Ethernet address. */
function strongestMac(sources: [string, string | undefined][]): string | undefined {
  const macs = sources
    .filter((source): source is [string, string] => !!source[1])
    .map(([field, value]) => {
      const mac = parseMac(value);
      if (mac === undefined || mac.length !== ETHERNET_MAC_LENGTH) throw invalidConfig(field, value, "must be a MAC address like 0a:58:0a:01:00:05");
      return mac;
    });
  return macs[0];
}
