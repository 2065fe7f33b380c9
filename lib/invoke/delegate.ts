import { spawnSync } from "node:child_process";
import { CniError, ErrorCode } from "../core/index.ts";
import { decodeResult } from "../types/convert.ts";
import type { Result } from "../types/result.ts";
import { findInPath } from "./find.ts";
import { ownPluginAt, runInProcess } from "./in-process.ts";

/** The attachment a delegated call acts for: the parent plugin's own CNI_* parameters. */
export interface DelegateTarget {
  containerId?: string;
  netns?: string;
  ifname?: string;
  /** CNI_ARGS exactly as the parent received it. */
  args?: string;
  path: readonly string[];
}

type DelegateCommand = "ADD" | "DEL" | "CHECK" | "STATUS" | "GC";

/**
 * Runs a delegated plugin (usually IPAM) as libcni's invoke package does: the parent's
 * environment with the CNI_* variables of the call, the parent's configuration on stdin, stderr
 * passed through to ours, and an error object on stdout turned back into a CniError with its
 * code. When the plugin found is this very executable, it runs in this process instead
 * (in-process.ts), with the same environment, input and output.
 */
async function execDelegate(type: string, command: DelegateCommand, stdin: Buffer, target: DelegateTarget): Promise<string> {
  const executable = findInPath(type, target.path);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CNI_COMMAND: command,
    CNI_CONTAINERID: target.containerId ?? "",
    CNI_NETNS: target.netns ?? "",
    CNI_IFNAME: target.ifname ?? "",
    CNI_ARGS: target.args ?? "",
    CNI_PATH: target.path.join(":"),
  };
  const own = await ownPluginAt(type, executable);
  if (own) {
    const { status, stdout } = await runInProcess(own, env, stdin);
    if (status !== 0) throw delegateFailure(type, command, stdout, status, null);
    return stdout;
  }
  const child = spawnSync(executable, [], { env, input: stdin, stdio: ["pipe", "pipe", "inherit"], maxBuffer: 16 << 20 });
  if (child.error) {
    throw new CniError(ErrorCode.DelegateFailed, `run ${type} ${command}: ${child.error.message}`);
  }
  const stdout = child.stdout.toString("utf8");
  if (child.status !== 0) throw delegateFailure(type, command, stdout, child.status, child.signal);
  return stdout;
}

function delegateFailure(
  type: string,
  command: DelegateCommand,
  stdout: string,
  status: number | null,
  signal: NodeJS.Signals | null,
): CniError {
  try {
    const error = JSON.parse(stdout) as { code?: unknown; msg?: unknown; details?: unknown };
    if (typeof error.code === "number" && typeof error.msg === "string") {
      return new CniError(error.code, `${type} ${command}: ${error.msg}`, typeof error.details === "string" ? error.details : "");
    }
  } catch {
    // not an error object: described below
  }
  const how = signal ? `was killed by ${signal}` : `exited with status ${status}`;
  return new CniError(ErrorCode.DelegateFailed, `${type} ${command} ${how}${stdout ? `: ${stdout.trim()}` : " without an error object"}`);
}

export async function delegateAdd(type: string, stdin: Buffer, target: DelegateTarget): Promise<Result> {
  const stdout = await execDelegate(type, "ADD", stdin, target);
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch {
    throw new CniError(ErrorCode.DecodingFailure, `${type} ADD printed something that is not a JSON result: ${stdout.slice(0, 200)}`);
  }
  return decodeResult(raw, `result of ${type}`);
}

export async function delegateDel(type: string, stdin: Buffer, target: DelegateTarget): Promise<void> {
  await execDelegate(type, "DEL", stdin, target);
}

export async function delegateCheck(type: string, stdin: Buffer, target: DelegateTarget): Promise<void> {
  await execDelegate(type, "CHECK", stdin, target);
}

export async function delegateStatus(type: string, stdin: Buffer, target: DelegateTarget): Promise<void> {
  await execDelegate(type, "STATUS", stdin, target);
}

export async function delegateGc(type: string, stdin: Buffer, target: DelegateTarget): Promise<void> {
  await execDelegate(type, "GC", stdin, target);
}
