/**
 * cnitool: runs a network configuration for a network namespace by hand, as the upstream
 * cnitool (containernetworking/cni/cnitool) does and with the same environment variables,
 * container IDs and result cache, so either tool can delete what the other added.
 */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { Writable } from "node:stream";
import { validateInterfaceName } from "../skel/index.ts";
import { CniError } from "../core/index.ts";
import { CacheError, ConfigError, NetworkNotFoundError, PluginError, PluginExecError } from "./errors.ts";
import { findNetwork, loadNetworkDirectory } from "./load.ts";
import { CniRuntime, type RuntimeConf } from "./runtime.ts";

export const DEFAULT_NETCONFPATH = "/etc/cni/net.d";

/** Exit statuses; documented in lib/runtime/README.md. */
export const ExitStatus = {
  Success: 0,
  PluginError: 1,
  Usage: 2,
  Configuration: 3,
  PluginFailed: 4,
  Cache: 5,
  /** A bug in cnitool itself (EX_SOFTWARE). */
  Internal: 70,
} as const;

const COMMANDS = ["add", "check", "del", "gc", "status"] as const;
type CnitoolCommand = (typeof COMMANDS)[number];

const USAGE = `Usage: cnitool [-i IFNAME] add|check|del <network> <netns path>
       cnitool gc|status <network> [<netns path>]

  add     attach the namespace to the network; prints the result
  check   check the attachment (configurations of spec 0.4.0 and later)
  del     detach the namespace from the network
  gc      delete every cached attachment of the network, then GC each plugin (1.1.0+)
  status  ask each plugin whether it can serve ADD (1.1.0+)

Options:
  -i, --ifname IFNAME  interface name in the namespace (default: $CNI_IFNAME or eth0)
  -h, --help           show this text

Environment:
  NETCONFPATH  directory of network configurations (default ${DEFAULT_NETCONFPATH})
  CNI_PATH     plugin directories, separated by ":"
  CNI_IFNAME   interface name (default eth0)
  CNI_ARGS     plugin arguments "K1=V1;K2=V2"
  CAP_ARGS     capability arguments as a JSON object, e.g. {"portMappings":[...]}
`;

export interface CnitoolIO {
  env: NodeJS.ProcessEnv;
  stdout: Writable;
  stderr: Writable;
}

/**
 * The container ID upstream cnitool gives an attachment: "cnitool-" and the first 10 bytes of
 * the SHA-512 of the absolute namespace path, in hex.
 */
export function cnitoolContainerId(netnsPath: string): string {
  return `cnitool-${createHash("sha512").update(resolve(netnsPath)).digest("hex").slice(0, 20)}`;
}

class UsageError extends Error {}

interface Invocation {
  command: CnitoolCommand;
  network: string;
  netns: string | undefined;
  ifName: string | undefined;
}

function parseArguments(args: readonly string[]): Invocation | "help" {
  const positional: string[] = [];
  let ifName: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "-h" || arg === "--help" || arg === "help") return "help";
    if (arg === "-i" || arg === "--ifname") {
      ifName = args[++i];
      if (ifName === undefined) throw new UsageError(`${arg} needs an interface name`);
    } else if (arg.startsWith("--ifname=")) {
      ifName = arg.slice("--ifname=".length);
    } else if (arg.startsWith("-")) {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  const [command, network, netns, ...extra] = positional;
  if (command === undefined) throw new UsageError("no command given");
  if (!(COMMANDS as readonly string[]).includes(command)) throw new UsageError(`unknown command "${command}"`);
  if (network === undefined) throw new UsageError(`${command} needs a network name`);
  const needsNetns = command === "add" || command === "check" || command === "del";
  if (needsNetns && netns === undefined) throw new UsageError(`${command} needs the path of a network namespace`);
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
  return { command: command as CnitoolCommand, network, netns, ifName };
}

/** CNI_ARGS as upstream cnitool reads it: every pair is KEY=VALUE with both sides non-empty. */
function parseCniArgs(text: string): [string, string][] {
  if (text === "") return [];
  return text.split(";").map((pair) => {
    const parts = pair.split("=");
    if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
      throw new UsageError(`CNI_ARGS: invalid pair ${JSON.stringify(pair)} (expected KEY=VALUE;KEY=VALUE)`);
    }
    return [parts[0]!, parts[1]!];
  });
}

function parseCapabilityArgs(text: string): Record<string, unknown> {
  if (text === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`CAP_ARGS is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UsageError("CAP_ARGS must be a JSON object");
  return value as Record<string, unknown>;
}

function interfaceName(fromFlag: string | undefined, env: NodeJS.ProcessEnv): string {
  const ifName = fromFlag || env.CNI_IFNAME || "eth0";
  try {
    validateInterfaceName(ifName, "interface name");
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return ifName;
}

export async function runCnitool(args: string[], io: CnitoolIO = { env: process.env, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const parsed = parseArguments(args);
    if (parsed === "help") {
      io.stdout.write(USAGE);
      return ExitStatus.Success;
    }
    return await execute(parsed, io, abort.signal);
  } catch (error) {
    return report(error, io);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function execute(invocation: Invocation, io: CnitoolIO, signal: AbortSignal): Promise<number> {
  const { env } = io;
  const ifName = interfaceName(invocation.ifName, env);
  const cniArgs = parseCniArgs(env.CNI_ARGS ?? "");
  const capabilityArgs = parseCapabilityArgs(env.CAP_ARGS ?? "");

  const directory = loadNetworkDirectory(env.NETCONFPATH || DEFAULT_NETCONFPATH);
  const list = findNetwork(directory, invocation.network);
  for (const problem of directory.problems) io.stderr.write(`cnitool: warning: ignoring ${problem.message}\n`);

  const runtime = new CniRuntime({ path: (env.CNI_PATH ?? "").split(":").filter(Boolean), env, stderr: io.stderr });
  const netns = invocation.netns === undefined ? "" : resolve(invocation.netns);
  const rt: RuntimeConf = {
    containerId: netns ? cnitoolContainerId(netns) : "",
    netns,
    ifName,
    args: cniArgs,
    capabilityArgs,
  };
  const options = { signal };
  switch (invocation.command) {
    case "add": {
      const result = await runtime.addNetworkList(list, rt, options);
      io.stdout.write(`${JSON.stringify(result.wire, null, 4)}\n`);
      break;
    }
    case "check":
      await runtime.checkNetworkList(list, rt, options);
      break;
    case "del":
      await runtime.delNetworkList(list, rt, options);
      break;
    case "gc":
      // Like upstream cnitool: no attachment is declared valid, so every cached one goes.
      await runtime.gcNetworkList(list, { validAttachments: [] }, options);
      break;
    case "status":
      await runtime.getStatusNetworkList(list, options);
      break;
  }
  return ExitStatus.Success;
}

/** Prints an error (plugin error objects as JSON on stdout, a line on stderr); returns the status. */
function report(error: unknown, io: CnitoolIO): number {
  if (error instanceof UsageError) {
    io.stderr.write(`cnitool: ${error.message}\n\n${USAGE}`);
    return ExitStatus.Usage;
  }
  const errors = error instanceof AggregateError ? (error.errors as unknown[]) : [error];
  for (const each of errors) {
    const plugin = rootCause(each);
    if (plugin instanceof PluginError) io.stdout.write(`${JSON.stringify(plugin.errorObject, null, 4)}\n`);
    io.stderr.write(`cnitool: ${each instanceof Error ? each.message : String(each)}\n`);
  }
  const status = exitStatusOf(rootCause(errors[0]));
  if (status === ExitStatus.Internal && error instanceof Error) io.stderr.write(`cnitool: internal error: ${error.stack}\n`);
  return status;
}

/** GC wraps the error of a stale attachment's DEL; the plugin's own error is its cause. */
function rootCause(error: unknown): unknown {
  let current = error;
  while (current instanceof Error && !(current instanceof PluginError) && current.cause !== undefined) current = current.cause;
  return current;
}

function exitStatusOf(error: unknown): number {
  if (error instanceof PluginError) return ExitStatus.PluginError;
  if (error instanceof PluginExecError) return ExitStatus.PluginFailed;
  if (error instanceof ConfigError || error instanceof NetworkNotFoundError || error instanceof CniError) return ExitStatus.Configuration;
  if (error instanceof CacheError) return ExitStatus.Cache;
  return ExitStatus.Internal;
}
