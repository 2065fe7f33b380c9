export { CniArgs } from "./args.ts";
export { decodeConfig, formatPath, netConfSchema, parseWithSchema, type NetConf } from "./config.ts";
export { runPlugin, processIO, type PluginIO } from "./dispatch.ts";
export { validateContainerId, validateInterfaceName, type Command } from "./env.ts";
export * from "./errors.ts";
export { decodeJson, findDuplicateKeys, MAX_JSON_DEPTH } from "./json.ts";
export { log } from "./log.ts";
export { Rollback } from "./rollback.ts";
export * from "./plugin.ts";
