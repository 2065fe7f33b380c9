/**
 * The dhcp plugin's side of the daemon's socket: one net/rpc call per plugin run, with the
 * plugin's CNI parameters and stdin as skel.CmdArgs, exactly as the reference plugin sends
 * them, so either plugin works with either daemon. Failures become CniErrors with a code.
 */
import { connect } from "node:net";
import { CniError, ErrorCode } from "../skel/index.ts";
import type { Result } from "../types/index.ts";
import { splitCode } from "./rpc/error-text.ts";
import { GobError } from "./rpc/gob.ts";
import { callGoRpc, RpcServerError, RpcTimeout, RpcUnavailable } from "./rpc/go-rpc.ts";
import { cmdArgsToGob, cmdArgsType, resultFromGob, type CmdArgs } from "./rpc/types.ts";

/** Acquiring may take the daemon's -resendtimeout (3m28s by default) and a bit. */
const ALLOCATE_TIMEOUT_MS = 5 * 60_000;
const RELEASE_TIMEOUT_MS = 60_000;

export type { CmdArgs };

const HOW_TO_START = "start it with `dhcp daemon` (this suite's dhcp executable; see its README), or enable cni-dhcp.socket";

export async function allocateLease(socketPath: string, args: CmdArgs): Promise<Result> {
  return resultFromReply(await call(socketPath, "DHCP.Allocate", args, ALLOCATE_TIMEOUT_MS), "DHCP.Allocate");
}

/**
 * The lease the daemon holds for the attachment. Our daemon answers DHCP.Check without ever
 * acquiring; the reference daemon has no such method, and is asked DHCP.Allocate instead (as the
 * reference plugin's CHECK does).
 */
export async function heldLease(socketPath: string, args: CmdArgs): Promise<Result> {
  try {
    return resultFromReply(await call(socketPath, "DHCP.Check", args, RELEASE_TIMEOUT_MS), "DHCP.Check");
  } catch (error) {
    if (error instanceof CniError && error.message.includes("rpc: can't find method DHCP.Check")) return allocateLease(socketPath, args);
    throw error;
  }
}

/** Releases the lease. A daemon that is not running holds no lease: that is not an error. */
export async function releaseLease(socketPath: string, args: CmdArgs): Promise<"released" | "no daemon"> {
  try {
    await call(socketPath, "DHCP.Release", args, RELEASE_TIMEOUT_MS);
    return "released";
  } catch (error) {
    if (error instanceof DaemonNotRunning) return "no daemon";
    throw error;
  }
}

/** STATUS: whether something accepts connections on the daemon's socket. */
export function daemonListening(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ path: socketPath });
    const timer = setTimeout(() => {
      probe.destroy();
      resolve(false);
    }, 5000);
    probe.once("connect", () => {
      clearTimeout(timer);
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

export function daemonNotRunningMessage(socketPath: string): string {
  return `the dhcp daemon is not running (nothing listens on ${socketPath}): ${HOW_TO_START}`;
}

class DaemonNotRunning extends CniError {
  constructor(socketPath: string) {
    super(ErrorCode.TryAgainLater, daemonNotRunningMessage(socketPath));
  }
}

async function call(socketPath: string, method: string, args: CmdArgs, timeoutMs: number) {
  try {
    return await callGoRpc(socketPath, method, cmdArgsType, cmdArgsToGob(args), timeoutMs);
  } catch (error) {
    if (error instanceof RpcUnavailable) {
      if (error.notRunning) throw new DaemonNotRunning(socketPath);
      throw new CniError(ErrorCode.TryAgainLater, `the dhcp daemon at ${socketPath} did not answer ${method}: ${error.message}`);
    }
    if (error instanceof RpcTimeout) {
      throw new CniError(ErrorCode.TryAgainLater, `the dhcp daemon at ${socketPath} gave no answer to ${method} within ${timeoutMs / 1000} s`);
    }
    if (error instanceof RpcServerError) {
      // Our daemon tags its errors with their code; the reference daemon's carry none.
      const { message, code } = splitCode(error.message);
      throw new CniError(code ?? ErrorCode.DelegateFailed, code === undefined ? `the dhcp daemon failed ${method}: ${message}` : message);
    }
    if (error instanceof GobError) throw new CniError(ErrorCode.DelegateFailed, `the dhcp daemon at ${socketPath} answered ${method} with something unreadable: ${error.message}`);
    throw error;
  }
}

function resultFromReply(reply: Parameters<typeof resultFromGob>[0], method: string): Result {
  try {
    return resultFromGob(reply);
  } catch (error) {
    if (error instanceof GobError) throw new CniError(ErrorCode.DelegateFailed, `the dhcp daemon's answer to ${method} is not a CNI result: ${error.message}`);
    throw error;
  }
}
