import { CniError, ErrorCode } from "../core/index.ts";
import type { AttachmentRequest, NetworkRequest } from "../skel/index.ts";
import { decodeResult, type Result } from "../types/index.ts";
import { PluginError, PluginExecError, PluginNotFoundError, type PluginCommand } from "./errors.ts";
import { processExecutor } from "./exec.ts";
import { inProcessExecutor } from "./in-process.ts";

/**
 * Delegation: a plugin running another plugin (its IPAM) as libcni's invoke package does. The
 * delegate gets the parent's environment with the CNI_* variables of the parent's own request,
 * the parent's configuration on stdin, and our stderr; an error object it prints comes back as a
 * CniError with its code, so the parent's caller sees the delegate's own answer.
 */

/** What a delegation passes on from the parent's request. */
export type DelegatingRequest =
  | Pick<AttachmentRequest<unknown>, "containerId" | "netns" | "ifname" | "args" | "path" | "stdin" | "ownPlugins">
  | Pick<NetworkRequest<unknown>, "path" | "stdin" | "ownPlugins">;

/**
 * Longer than any IPAM needs (a DHCP lease is acquired or given up on well within it), so only a
 * hung delegate reaches it; a runtime's own time limit is usually shorter and also stops the
 * delegate, which stays in the parent's process group.
 */
const DELEGATE_TIMEOUT_MS = 300_000;

async function execDelegate(type: string, command: PluginCommand, request: DelegatingRequest): Promise<string> {
  const attachment = "containerId" in request ? request : undefined;
  // In the compiled executable, a delegate that is this very executable runs in this process.
  const executor = request.ownPlugins ? inProcessExecutor(request.ownPlugins) : processExecutor;
  try {
    return await executor.run({
      invocation: { plugin: type, command, network: "" },
      parameters: {
        containerId: attachment?.containerId ?? "",
        netns: attachment?.netns ?? "",
        ifName: attachment?.ifname ?? "",
        args: attachment?.args.text ?? "",
        path: request.path,
      },
      stdin: request.stdin,
      baseEnv: process.env,
      timeoutMs: DELEGATE_TIMEOUT_MS,
      stderr: "inherit",
      ownProcessGroup: false,
    });
  } catch (error) {
    throw delegateError(type, command, request.path, error);
  }
}

/** The delegate's own error object as a CniError; a delegate that could not be run as code 102 (or 7/4 for a bad type or CNI_PATH). */
function delegateError(type: string, command: PluginCommand, path: readonly string[], error: unknown): CniError {
  if (error instanceof PluginError) return new CniError(error.code, `${type} ${command}: ${error.msg}`, error.details);
  if (error instanceof PluginNotFoundError) {
    switch (error.problem) {
      case "not-a-name":
        return new CniError(ErrorCode.InvalidConfig, `invalid config: type=${JSON.stringify(type)}: must be a plugin name, not a path`);
      case "no-directories":
        return new CniError(ErrorCode.InvalidEnvironment, `CNI_PATH: is empty, so plugin "${type}" cannot be found`);
      case "not-found":
        return new CniError(ErrorCode.DelegateFailed, `plugin "${type}" not found in CNI_PATH (${path.join(":")})`);
    }
  }
  if (error instanceof PluginExecError) return new CniError(ErrorCode.DelegateFailed, `${type} ${command}: ${error.reason}`);
  return new CniError(ErrorCode.DelegateFailed, `run ${type} ${command}: ${(error as Error).message}`);
}

export async function delegateAdd(type: string, request: DelegatingRequest): Promise<Result> {
  const stdout = await execDelegate(type, "ADD", request);
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch {
    throw new CniError(ErrorCode.DecodingFailure, `${type} ADD printed something that is not a JSON result: ${stdout.slice(0, 200)}`);
  }
  return decodeResult(raw, `result of ${type}`);
}

export async function delegateDel(type: string, request: DelegatingRequest): Promise<void> {
  await execDelegate(type, "DEL", request);
}

export async function delegateCheck(type: string, request: DelegatingRequest): Promise<void> {
  await execDelegate(type, "CHECK", request);
}

export async function delegateStatus(type: string, request: DelegatingRequest): Promise<void> {
  await execDelegate(type, "STATUS", request);
}

export async function delegateGc(type: string, request: DelegatingRequest): Promise<void> {
  await execDelegate(type, "GC", request);
}
