import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { isRegularFile, searchPath } from "../core/index.ts";
import {
  PluginAbortedError,
  PluginError,
  PluginExecError,
  PluginNotFoundError,
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

/** One run of a plugin: which, for what, with which parameters, input and limits. */
export interface PluginCall {
  invocation: PluginInvocation;
  parameters: PluginParameters;
  /**
   * Where to look for the plugin, when not in the CNI_PATH it is given: libcni gives a plugin
   * asked for VERSION a placeholder CNI_PATH.
   */
  findIn?: readonly string[];
  stdin: string | Uint8Array;
  /** The environment the plugin inherits; the CNI_* variables are set over it. */
  baseEnv: NodeJS.ProcessEnv;
  /** The plugin is killed after this long and the call fails with PluginTimeoutError. */
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * Where the plugin's stderr goes as it is written: a stream, null to drop it, or "inherit" to
   * share ours (a delegating plugin's choice: nothing in between, and no stream object built).
   */
  stderr: Writable | null | "inherit";
  /**
   * Start the plugin in a process group of its own, so a time-out or abort kills whatever it
   * started too (a runtime's choice). A delegating plugin leaves its delegate in its own group
   * instead, so that a runtime killing the delegating plugin's group kills the delegate with it.
   */
  ownProcessGroup: boolean;
}

/**
 * Runs plugins: finds `call.invocation.plugin` on `call.parameters.path`, runs it with the
 * CNI_* variables and stdin, and resolves with its stdout. A plugin that fails with an error
 * object rejects with a PluginError carrying it; one that cannot be found, started or finished
 * (or answers without an error object) with a PluginExecError (PluginNotFoundError,
 * PluginTimeoutError, PluginAbortedError). lib/runtime runs every plugin of a list through one;
 * plugins delegate to IPAM through one (delegate.ts).
 */
export interface PluginExecutor {
  run(call: PluginCall): Promise<string>;
}

/** Runs each plugin as a child process, as libcni's RawExec does. */
export const processExecutor: PluginExecutor = {
  run: (call) => execPlugin(call, findPlugin(call.invocation, call.findIn ?? call.parameters.path)),
};

/** How much of a plugin's stderr is kept for an error message when it prints no error object. */
const STDERR_TAIL_BYTES = 4096;
/** libcni retries a plugin whose executable is being written ("text file busy") this often. */
const TEXT_FILE_BUSY_RETRIES = 5;
const TEXT_FILE_BUSY_DELAY_MS = 1000;

/**
 * Finds a plugin executable in the plugin path as libcni's FindInPath does: the first regular
 * file named `type`. A type that names a path is refused, so a configuration never chooses
 * which file runs.
 */
export function findPlugin(invocation: PluginInvocation, path: readonly string[]): string {
  const type = invocation.plugin;
  if (type === "" || type.includes("/")) {
    throw new PluginNotFoundError(invocation, "not-a-name", `type ${JSON.stringify(type)} must be a plugin name, not a path`);
  }
  if (path.length === 0) throw new PluginNotFoundError(invocation, "no-directories", "no plugin directories given (CNI_PATH is empty)");
  const found = searchPath(type, path, isRegularFile);
  if (found) return found;
  throw new PluginNotFoundError(invocation, "not-found", `plugin executable "${type}" not found in ${path.join(":")}`);
}

/**
 * Runs the plugin at `executable` to completion and returns its stdout, retrying while the file
 * is being written ("text file busy"), as libcni does.
 */
async function execPlugin(run: PluginCall, executable: string): Promise<string> {
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

/** The environment a plugin runs with: the base environment and the call's CNI_* variables. */
export function pluginEnv(run: PluginCall): NodeJS.ProcessEnv {
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

function execOnce(run: PluginCall, executable: string): Promise<string> {
  const { invocation } = run;
  return new Promise((resolve, reject) => {
    if (run.signal?.aborted) {
      reject(new PluginAbortedError(invocation));
      return;
    }
    const stderr = run.stderr === "inherit" ? "inherit" : "pipe";
    // Piped stdin and stdout are there; spawn's typings cannot tell with stderr's mode a variable.
    const child = spawn(executable, [], {
      env: pluginEnv(run),
      stdio: ["pipe", "pipe", stderr],
      detached: run.ownProcessGroup,
    }) as ChildProcessByStdio<Writable, Readable, Readable | null>;
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
    const kill = (reason: Error): void => {
      stopped = reason;
      try {
        process.kill(run.ownProcessGroup ? -child.pid! : child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const onAbort = (): void => kill(new PluginAbortedError(invocation));
    const timer = setTimeout(() => kill(new PluginTimeoutError(invocation, run.timeoutMs)), run.timeoutMs);
    run.signal?.addEventListener("abort", onAbort, { once: true });

    child.on("error", (error) => finish(() => reject(error)));
    // A plugin may exit without reading its stdin; the broken pipe is not the failure to report.
    child.stdin.on("error", () => undefined);
    child.stdin.end(run.stdin);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => {
      if (run.stderr !== "inherit") run.stderr?.write(chunk);
      stderrTail = Buffer.concat([stderrTail, chunk]).subarray(-STDERR_TAIL_BYTES);
    });
    child.on("exit", () => {
      // Once killed, do not wait for pipes that something outside the group may still hold.
      if (stopped) {
        child.stdout.destroy();
        child.stderr?.destroy();
        finish(() => reject(stopped));
      }
    });
    child.on("close", (status, signal) => {
      finish(() => {
        if (stopped) return reject(stopped);
        const output = Buffer.concat(stdout).toString("utf8");
        if (status === 0) return resolve(output);
        reject(pluginFailure(invocation, output, stderrTail.toString("utf8"), status, signal));
      });
    });
  });
}

/** What a plugin that exited non-zero said, as libcni's RawExec.pluginErr reads it. */
export function pluginFailure(
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
