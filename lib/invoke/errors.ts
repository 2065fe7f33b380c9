/** The commands a plugin is run for. */
export type PluginCommand = "ADD" | "DEL" | "CHECK" | "GC" | "STATUS" | "VERSION";

/** An error object as a plugin printed it (SPEC.md section 5); cniVersion only if it said one. */
export interface PluginErrorObject {
  cniVersion?: string;
  code: number;
  msg: string;
  details?: string;
}

/** Which plugin of which network a failure came from, for messages and for callers. */
export interface PluginInvocation {
  /** The plugin's `type`: its executable name. */
  plugin: string;
  command: PluginCommand;
  /** The configuration list's name; empty for calls outside a list (VERSION, delegation). */
  network: string;
}

function describe(invocation: PluginInvocation): string {
  const network = invocation.network ? ` of network "${invocation.network}"` : "";
  return `plugin "${invocation.plugin}"${network} failed (${invocation.command})`;
}

/**
 * A plugin ran and answered with an error object (SPEC.md section 5): its code, msg and details
 * are kept as it sent them, and `errorObject` is the object itself.
 */
export class PluginError extends Error {
  readonly code: number;
  readonly msg: string;
  readonly details: string;

  constructor(
    readonly invocation: PluginInvocation,
    readonly errorObject: PluginErrorObject,
  ) {
    super(`${describe(invocation)}: ${errorObject.msg}${errorObject.details ? ` (${errorObject.details})` : ""}`);
    this.name = "PluginError";
    this.code = errorObject.code;
    this.msg = errorObject.msg;
    this.details = errorObject.details ?? "";
  }
}

/**
 * A plugin could not be run, or ended without a usable answer: not found in the plugin path,
 * killed, exited non-zero without an error object, or printed a result that is not one.
 */
export class PluginExecError extends Error {
  constructor(
    readonly invocation: PluginInvocation,
    readonly reason: string,
  ) {
    super(`${describe(invocation)}: ${reason}`);
    this.name = "PluginExecError";
  }
}

/** A plugin did not finish within the time limit and was killed, with everything it started. */
export class PluginTimeoutError extends PluginExecError {
  constructor(
    invocation: PluginInvocation,
    readonly timeoutMs: number,
  ) {
    super(invocation, `did not finish within ${formatDuration(timeoutMs)} and was killed`);
    this.name = "PluginTimeoutError";
  }
}

/** The caller aborted the operation (AbortSignal); the running plugin was killed. */
export class PluginAbortedError extends PluginExecError {
  constructor(invocation: PluginInvocation) {
    super(invocation, "aborted by the caller; the plugin was killed");
    this.name = "PluginAbortedError";
  }
}

/**
 * The plugin could not be looked up: its type is not a plain name, there is no directory to
 * look in, or no directory has it. `problem` says which, so a caller can map it to its own
 * error (a delegating plugin answers 7, 4 or 102).
 */
export class PluginNotFoundError extends PluginExecError {
  constructor(
    invocation: PluginInvocation,
    readonly problem: "not-a-name" | "no-directories" | "not-found",
    reason: string,
  ) {
    super(invocation, reason);
    this.name = "PluginNotFoundError";
  }
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
