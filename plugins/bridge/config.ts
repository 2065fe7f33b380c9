import { z } from "zod";
import { ipamType } from "../../lib/invoke/index.ts";
import { invalidConfig, netConfSchema, parseWithSchema, unsupportedField, type ConfigContext } from "../../lib/skel/index.ts";

const MAC_PATTERN = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;
const macAddress = z.string().regex(MAC_PATTERN, "must be a MAC address like 0a:58:0a:01:00:05");
const vlanId = z.number().int().min(1, "must be between 1 and 4094").max(4094, "must be between 1 and 4094");

const vlanTrunkEntry = z
  .object({
    minID: vlanId.optional().describe("First VLAN ID of a range"),
    maxID: vlanId.optional().describe("Last VLAN ID of a range"),
    id: vlanId.optional().describe("A single VLAN ID"),
  })
  .refine((entry) => (entry.minID === undefined) === (entry.maxID === undefined), {
    message: "minID and maxID must be given together",
  })
  .refine((entry) => entry.minID === undefined || entry.maxID === undefined || entry.minID <= entry.maxID, {
    message: "minID must not be greater than maxID",
  });

export const bridgeConfigSchema = netConfSchema.extend({
  bridge: z
    .string()
    .min(1)
    .max(15, "a bridge name is at most 15 bytes")
    .regex(/^[^/:\s]+$/, "must be a valid interface name")
    .default("cni0")
    .describe("Name of the bridge to use or create"),
  isGateway: z.boolean().default(false).describe("Assign the gateway address(es) to the bridge"),
  isDefaultGateway: z
    .boolean()
    .default(false)
    .describe("Also make the gateway the container's default route (implies isGateway)"),
  forceAddress: z
    .boolean()
    .default(false)
    .describe("Replace a different address already on the bridge instead of failing"),
  ipMasq: z.boolean().default(false).describe("Masquerade traffic leaving the container's subnets"),
  ipMasqBackend: z.enum(["iptables", "nftables"]).optional().describe("Firewall backend for ipMasq"),
  mtu: z.number().int().min(0).max(65535).default(0).describe("MTU of the bridge and veth pair (0: kernel default)"),
  hairpinMode: z.boolean().default(false).describe("Let the container reach itself through the bridge"),
  promiscMode: z.boolean().default(false).describe("Put the bridge in promiscuous mode"),
  vlan: z.number().int().min(0).max(4094, "must be between 0 and 4094").default(0).describe("VLAN ID of the container port (0: none)"),
  vlanTrunk: z.array(vlanTrunkEntry).optional().describe("VLAN IDs the container port trunks"),
  preserveDefaultVlan: z
    .boolean()
    .default(false)
    .describe("Keep the bridge's default VLAN on the port when vlan or vlanTrunk is set"),
  macspoofchk: z.boolean().default(false).describe("Drop frames from the container with another source MAC"),
  enabledad: z.boolean().default(false).describe("Run IPv6 duplicate address detection on the container interface"),
  disableContainerInterface: z
    .boolean()
    .default(false)
    .describe("Leave the container interface down (no IPAM allowed)"),
  portIsolation: z.boolean().default(false).describe("Isolate the port from other isolated ports on the bridge"),
  args: z
    .looseObject({ cni: z.looseObject({ mac: macAddress.optional() }).optional() })
    .optional()
    .describe("args.cni.mac: MAC address of the container interface"),
  runtimeConfig: z
    .looseObject({ mac: macAddress.optional() })
    .optional()
    .describe("The mac capability: MAC address of the container interface"),
});

export type BridgeConfigInput = z.infer<typeof bridgeConfigSchema>;

/** The configuration after every rule of the reference is applied, ready to act on. */
export interface BridgeConfig extends BridgeConfigInput {
  /** The MAC for the container interface: runtimeConfig.mac, else args.cni.mac, else CNI_ARGS MAC. */
  mac?: string;
  /** vlanTrunk flattened into sorted unique VLAN IDs. */
  trunkVlans: number[];
}

/**
 * Parses the configuration and applies the cross-field rules and the MAC sources, in the
 * reference's order of precedence. STATUS and GC need neither, so they are spared the rules.
 */
export function parseBridgeConfig(raw: Record<string, unknown>, context: ConfigContext): BridgeConfig {
  const input = parseWithSchema(bridgeConfigSchema, raw);
  const config: BridgeConfig = {
    ...input,
    isGateway: input.isGateway || input.isDefaultGateway,
    mac: input.runtimeConfig?.mac ?? input.args?.cni?.mac,
    trunkVlans: flattenTrunk(input.vlanTrunk ?? []),
  };
  if (!context.attachment) return config;

  const { args } = context.attachment;
  args.requireKnown(["MAC"]);
  const cniArgsMac = args.get("MAC");
  if (cniArgsMac !== undefined && !MAC_PATTERN.test(cniArgsMac)) {
    throw invalidConfig("CNI_ARGS MAC", cniArgsMac, "must be a MAC address like 0a:58:0a:01:00:05");
  }
  if (ipamType(input) && input.disableContainerInterface) {
    throw invalidConfig("disableContainerInterface", true, "cannot be used together with ipam (the interface would stay down)");
  }
  if (input.hairpinMode && input.promiscMode) {
    throw invalidConfig("hairpinMode", true, "cannot be combined with promiscMode");
  }
  return { ...config, mac: config.mac ?? cniArgsMac };
}

function flattenTrunk(entries: NonNullable<BridgeConfigInput["vlanTrunk"]>): number[] {
  const ids = new Set<number>();
  for (const entry of entries) {
    if (entry.minID !== undefined && entry.maxID !== undefined) {
      for (let id = entry.minID; id <= entry.maxID; id++) ids.add(id);
    }
    if (entry.id !== undefined) ids.add(entry.id);
  }
  return [...ids].sort((a, b) => a - b);
}

/** The error for VLAN options on a kernel without bridge VLAN filtering. */
export function vlanUnsupported(config: BridgeConfig): Error {
  const [field, value] = config.vlan ? ["vlan", config.vlan] : ["vlanTrunk", config.vlanTrunk];
  return unsupportedField(field, value, "this kernel lacks bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)");
}
