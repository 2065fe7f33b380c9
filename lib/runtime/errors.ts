/**
 * The runtime's errors. Those of running a plugin (PluginError and its kin) belong to the
 * executor in lib/invoke and are re-exported here, as part of the runtime's API.
 */
export {
  PluginAbortedError,
  PluginError,
  PluginExecError,
  PluginNotFoundError,
  PluginTimeoutError,
  type PluginCommand,
  type PluginErrorObject,
  type PluginInvocation,
} from "../invoke/index.ts";

/** A network configuration file that cannot be used; `field` is a path such as plugins[1].type. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly field: string | undefined,
    readonly reason: string,
  ) {
    super(`${file}: ${field ? `${field}: ` : ""}${reason}`);
    this.name = "ConfigError";
  }
}

/** No configuration file in the directory defines the network. */
export class NetworkNotFoundError extends Error {
  constructor(
    readonly dir: string,
    readonly network: string,
    /** Files that could not be read at all: one of them may have been meant to define it. */
    readonly unreadable: readonly ConfigError[],
  ) {
    const hint = unreadable.length ? `; files with errors: ${unreadable.map((error) => error.message).join("; ")}` : "";
    super(`no network configuration named "${network}" in ${dir}${hint}`);
    this.name = "NetworkNotFoundError";
  }
}

/** The result cache could not be read or written. */
export class CacheError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`result cache ${file}: ${reason}`);
    this.name = "CacheError";
  }
}
