/**
 * The plugin's kit: define a plugin, receive its parsed request, throw CNI errors, undo a
 * failed ADD. The error values and schema parsing live in lib/core and are re-exported here,
 * so a plugin's files import what they need to be a plugin from this one face.
 */
export { CniArgs } from "./args.ts";
export { decodeConfig, netConfSchema, type NetConf } from "./config.ts";
export { runPlugin, processIO, type PluginIO } from "./dispatch.ts";
export { validateContainerId, validateInterfaceName, type Command } from "./env.ts";
export { decodeJson, findDuplicateKeys, MAX_JSON_DEPTH } from "./json.ts";
export { Rollback } from "./rollback.ts";
export * from "./plugin.ts";
export {
  CniError,
  ErrorCode,
  describeValue,
  formatPath,
  invalidConfig,
  invalidEnvironment,
  log,
  parseWithSchema,
  toCniError,
  unsupportedField,
  type ErrorCodeValue,
} from "../core/index.ts";
