/**
 * The bottom of the house: what every other module may use and that uses no other module of
 * the suite. See README.md.
 */
export {
  CniError,
  ErrorCode,
  describeValue,
  invalidConfig,
  invalidEnvironment,
  toCniError,
  unsupportedField,
  type CodedError,
  type ErrorCodeValue,
  type ErrorObject,
} from "./errors.ts";
export { Failures } from "./failures.ts";
export { foldKeysToSchema } from "./go-keys.ts";
export { hashWithPrefix } from "./hash.ts";
export { lazy } from "./lazy.ts";
export { log } from "./log.ts";
export { parseMac } from "./mac.ts";
export { isExecutable, isRegularFile, searchPath } from "./path-search.ts";
export { formatPath, parseWithSchema } from "./schema.ts";
export { compareVersionNumbers } from "./versions.ts";
export { configureZodForOneShotParsing } from "./zod-settings.ts";
