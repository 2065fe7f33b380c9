import { ipamType } from "../../lib/invoke/index.ts";
import { invalidConfig, netConfSchema, parseWithSchema, type ConfigContext, type NetConf } from "../../lib/skel/index.ts";

/** dummy takes the keys every configuration has: `ipam` (required on ADD and CHECK) and `dns`. */
export const dummyConfigSchema = netConfSchema;

export type DummyConfig = NetConf;

/**
 * A dummy link exists to carry addresses, so ADD and CHECK need an IPAM plugin, as in the
 * reference; DEL, STATUS and GC accept a configuration without one.
 */
export function parseDummyConfig(raw: Record<string, unknown>, context: ConfigContext): DummyConfig {
  const config = parseWithSchema(dummyConfigSchema, raw);
  if ((context.command === "ADD" || context.command === "CHECK") && !ipamType(config)) {
    throw invalidConfig("ipam", config.ipam ?? undefined, "a dummy interface needs an IPAM plugin (ipam.type) for its addresses");
  }
  return config;
}
