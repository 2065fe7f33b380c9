/**
 * Running plugins: one executor for the runtime (lib/runtime) and for delegation from a plugin
 * to its IPAM. See README.md.
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
} from "./errors.ts";
export { findPlugin, processExecutor, type PluginCall, type PluginExecutor, type PluginParameters } from "./exec.ts";
export { inProcessExecutor, isRunningExecutable, runInProcess, type InProcessOutcome } from "./in-process.ts";
export { delegateAdd, delegateCheck, delegateDel, delegateGc, delegateStatus, type DelegatingRequest } from "./delegate.ts";
export { Ipam, ipamGc, ipamStatus, ipamType, type IpamResult } from "./ipam.ts";
