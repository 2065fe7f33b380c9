import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import {
  PluginAbortedError,
  PluginError,
  PluginExecError,
  PluginTimeoutError,
  type PluginErrorObject,
  type PluginInvocation,
} from "./errors.ts";

/** The CNI_* parameters of one plugin call (SPEC.md section 2); empty strings where unset. */
export interface PluginParameters {
  containerId: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS, already joined ("K1=V1;K2=V2"). */
  args: string;
  path: readonly string[];
}

export interface PluginRun {
  invocation: PluginInvocation;
  parameters: PluginParameters;
  stdin: string;
  /** The environment the plugin inherits; the CNI_* variables are set over it. */
  baseEnv: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Where the plugin's stderr goes as it is written; null to drop it. */
  stderr: Writable | null;
}

/** How much of a plugin's stderr is kept for an error message when it prints no error object. */
const STDERR_TAIL_BYTES = 4096;
/** libcni retries a plugin whose executable is being written ("text file busy") this often. */
const TEXT_FILE_BUSY_RETRIES = 5;
const TEXT_FILE_BUSY_DELAY_MS = 1000;

/**
 * Finds a plugin executable in the plugin path as libcni does: the first regular file named
 * `type`. A type that names a path is refused, so a configuration never chooses which file runs.
 */
export function findPlugin(invocation: PluginInvocation, path: readonly string[]): string {
  const type = invocation.plugin;
  if (type === "" || type.includes("/")) {
    throw new PluginExecError(invocation, `type ${JSON.stringify(type)} must be a plugin name, not a path`);
  }
  if (path.length === 0) throw new PluginExecError(invocation, "no plugin directories given (CNI_PATH is empty)");
  for (const dir of path) {
    const candidate = join(dir, type);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new PluginExecError(invocation, `plugin executable "${type}" not found in ${path.join(":")}`);
}

/**
 * Runs a plugin to completion and returns its stdout. A plugin that fails with an error object
 * becomes a PluginError carrying it; any other failure a PluginExecError. The plugin runs in a
 * process group of its own, so a time-out or abort kills whatever it started too.
 */
export async function execPlugin(run: PluginRun, executable: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await execOnce(run, executable);
    } catch (error) {
      const busy = (error as NodeJS.ErrnoException).code === "ETXTBSY";
      if (!busy || attempt >= TEXT_FILE_BUSY_RETRIES) throw toExecError(run.invocation, error);
      await sleep(TEXT_FILE_BUSY_DELAY_MS);
    }
  }
}

function toExecError(invocation: PluginInvocation, error: unknown): Error {
  if (error instanceof PluginError || error instanceof PluginExecError) return error;
  return new PluginExecError(invocation, `cannot be started: ${(error as Error).message}`);
}

function pluginEnv(run: PluginRun): NodeJS.ProcessEnv {
  const { parameters } = run;
  return {
    ...run.baseEnv,
    CNI_COMMAND: run.invocation.command,
    CNI_CONTAINERID: parameters.containerId,
    CNI_NETNS: parameters.netns,
    CNI_ARGS: parameters.args,
    CNI_IFNAME: parameters.ifName,
    CNI_PATH: parameters.path.join(":"),
  };
}

function execOnce(run: PluginRun, executable: string): Promise<string> {
  const { invocation } = run;
  return new Promise((resolve, reject) => {
    if (run.signal?.aborted) {
      reject(new PluginAbortedError(invocation));
      return;
    }
    const child = spawn(executable, [], { env: pluginEnv(run), stdio: ["pipe", "pipe", "pipe"], detached: true });
    const stdout: Buffer[] = [];
    let stderrTail = Buffer.alloc(0);
    let stopped: Error | undefined;
    let settled = false;

    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      run.signal?.removeEventListener("abort", onAbort);
      outcome();
    };
    const killGroup = (reason: Error): void => {
      stopped = reason;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // the group is already gone
      }
    };
    const onAbort = (): void => killGroup(new PluginAbortedError(invocation));
    const timer = setTimeout(() => killGroup(new PluginTimeoutError(invocation, run.timeoutMs)), run.timeoutMs);
    run.signal?.addEventListener("abort", onAbort, { once: true });

    child.on("error", (error) => finish(() => reject(error)));
    // A plugin may exit without reading its stdin; the broken pipe is not the failure to report.
    child.stdin.on("error", () => undefined);
    child.stdin.end(run.stdin);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      run.stderr?.write(chunk);
      stderrTail = Buffer.concat([stderrTail, chunk]).subarray(-STDERR_TAIL_BYTES);
    });
    child.on("exit", () => {
      // Once killed, do not wait for pipes that something outside the group may still hold.
      if (stopped) {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(() => reject(stopped));
      }
    });
    child.on("close", (status, signal) => {
      finish(() => {
        if (stopped) return reject(stopped);
        const output = Buffer.concat(stdout).toString("utf8");
        if (status === 0) return resolve(output);
        reject(failure(invocation, output, stderrTail.toString("utf8"), status, signal));
      });
    });
  });
}

/** What a plugin that exited non-zero said, as libcni's RawExec.pluginErr reads it. */
function failure(
  invocation: PluginInvocation,
  stdout: string,
  stderr: string,
  status: number | null,
  signal: NodeJS.Signals | null,
): Error {
  const how = signal ? `was killed by ${signal}` : `exited with status ${status}`;
  if (stdout.trim() === "") {
    const said = stderr.trim() ? `; stderr: ${JSON.stringify(stderr.trim())}` : "";
    return new PluginExecError(invocation, `${how} without an error object on stdout${said}`);
  }
  const errorObject = parseErrorObject(stdout);
  if (!errorObject) {
    return new PluginExecError(invocation, `${how} and printed something that is not an error object: ${JSON.stringify(stdout.slice(0, 300))}`);
  }
  return new PluginError(invocation, errorObject);
}

function parseErrorObject(stdout: string): PluginErrorObject | undefined {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { cniVersion, code, msg, details } = value as Record<string, unknown>;
  if (typeof code !== "number" || (msg !== undefined && typeof msg !== "string")) return undefined;
  return {
    ...(typeof cniVersion === "string" ? { cniVersion } : {}),
    code,
    msg: msg ?? "",
    ...(typeof details === "string" && details !== "" ? { details } : {}),
  };
}
