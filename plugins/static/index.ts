/**
 * static: IPAM that assigns the addresses it is given (in the configuration, in CNI_ARGS, in
 * args or by the runtime's `ips` capability), with their gateways, routes and DNS settings.
 * Nothing is reserved anywhere, so DEL and GC have nothing to do.
 */
import { CniError, definePlugin, ErrorCode } from "../../lib/skel/index.ts";
import { checkAgainstResult, configuredAddresses, configuredRoutes, resolveAddresses, staticResult } from "./addresses.ts";
import { parseStaticConfig, staticConfigSchema, type StaticConfig, type StaticConfigInput } from "./config.ts";

export default definePlugin<StaticConfig>({
  name: "static",
  about: "static IPAM: assigns the addresses given in the configuration, CNI_ARGS, args or the ips capability",
  configSchema: staticConfigSchema,
  parseConfig: parseStaticConfig,

  async add({ config, args }) {
    const settings = fullConfig(config);
    return staticResult(settings, resolveAddresses(settings, args));
  },

  async del() {
    // Nothing was reserved.
  },

  async check({ config, args, prevResult, ifname }) {
    const settings = fullConfig(config);
    const addresses = resolveAddresses(settings, args);
    if (!prevResult) {
      throw new CniError(ErrorCode.InvalidConfig, "invalid config: prevResult=(missing): CHECK needs the result of the ADD");
    }
    checkAgainstResult(addresses, prevResult, ifname);
  },

  async status({ config }) {
    // Nothing to run out of: ready whenever the configured addresses and routes are valid.
    const settings = fullConfig(config);
    configuredAddresses(settings);
    configuredRoutes(settings);
  },
});

function fullConfig(config: StaticConfig): StaticConfigInput {
  if (config.reads !== "all") throw new Error(`static: the ${config.reads} configuration was parsed for a command that needs all of it`);
  return config;
}
