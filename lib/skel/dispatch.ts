import { writeSync } from "node:fs";
import { CniError, ErrorCode, foldKeysToSchema, invalidEnvironment, toCniError } from "../core/index.ts";
import { NetNS, openCniNetns } from "../netns/index.ts";
import {
  CNI_VERSIONS,
  CURRENT_VERSION,
  decodeResult,
  encodeResult,
  isCniVersion,
  versionAtLeast,
  type CniVersion,
  type GcAttachment,
} from "../types/index.ts";
import { CniArgs } from "./args.ts";
import { decodeConfig, netConfSchema, type NetConf } from "./config.ts";
import { isNetworkInvocation, parseInvocation, type Command } from "./env.ts";
import type { AttachmentRequest, NetworkRequest, OwnPluginLoader, PluginDefinition } from "./plugin.ts";
import { readBoundedStdin } from "./stdin.ts";

/** Where a plugin run reads and writes; the process by default, buffers in tests. */
export interface PluginIO {
  env: Record<string, string | undefined>;
  readStdin(): Buffer;
  writeStdout(text: string): void;
  writeStderr(text: string): void;
}

export const processIO: PluginIO = {
  env: process.env,
  readStdin: () => readBoundedStdin(),
  writeStdout: (text) => void writeSync(1, text),
  writeStderr: (text) => void writeSync(2, text),
};

/** Set to 1, it makes a failing plugin print the error's stack trace on stderr. */
export const DEBUG_VARIABLE = "CNI_TS_DEBUG";

/**
 * Runs one CNI command of a plugin: validates the environment, negotiates the version, parses
 * the config, calls the plugin and prints its result, or the error object. Returns the exit
 * status. `ownPlugins` is passed on to the request, for delegation in-process.
 */
export async function runPlugin<C extends NetConf>(
  plugin: PluginDefinition<C>,
  io: PluginIO = processIO,
  ownPlugins?: OwnPluginLoader,
): Promise<number> {
  const versions = plugin.versions ?? CNI_VERSIONS;
  let errorVersion: string = CURRENT_VERSION;
  try {
    if (!io.env.CNI_COMMAND) {
      io.writeStderr(`${plugin.about}\nCNI protocol versions supported: ${versions.join(", ")}\n`);
    }
    const invocation = parseInvocation(io.env);
    if (invocation.command === "VERSION") {
      io.writeStdout(JSON.stringify({ cniVersion: CURRENT_VERSION, supportedVersions: versions }));
      return 0;
    }

    const stdin = readStdin(io);
    const raw = foldKeysToSchema(netConfSchema, decodeConfig(stdin)) as Record<string, unknown>;
    if (typeof raw.cniVersion === "string" && isCniVersion(raw.cniVersion)) errorVersion = raw.cniVersion;
    const cniVersion = negotiateVersion(raw.cniVersion, versions, invocation.command);

    if (isNetworkInvocation(invocation)) {
      const config = plugin.parseConfig(raw, { command: invocation.command, stdin });
      const validAttachments = parseValidAttachments(raw, invocation.command);
      await runNetworkCommand(plugin, { ...invocation, cniVersion, config, stdin, validAttachments, ownPlugins });
      return 0;
    }
    const args = CniArgs.parse(invocation.args);
    const config = plugin.parseConfig(raw, { command: invocation.command, attachment: { args, ifname: invocation.ifname }, stdin });
    if (invocation.netns) checkContainerNetns(invocation.netns, invocation.command);
    const request: AttachmentRequest<C> = {
      ...invocation,
      cniVersion,
      config,
      stdin,
      args,
      prevResult: raw.prevResult === undefined ? undefined : decodeResult(raw.prevResult, "prevResult"),
      ownPlugins,
    };
    if (request.command === "ADD") {
      io.writeStdout(JSON.stringify(await addAndEncode(plugin, request)));
    } else {
      await (request.command === "DEL" ? plugin.del(request) : plugin.check(request));
    }
    return 0;
  } catch (error) {
    const cniError = toCniError(error);
    // The error object says what went wrong; the stack is for a developer who asks for it.
    if (io.env[DEBUG_VARIABLE] === "1" && error instanceof Error && error.stack) {
      io.writeStderr(`${plugin.name}: ${cniError.code === ErrorCode.Internal ? "internal error" : `error ${cniError.code}`}: ${error.stack}\n`);
    }
    io.writeStdout(JSON.stringify(cniError.toObject(errorVersion)));
    return 1;
  }
}

function readStdin(io: PluginIO): Buffer {
  try {
    return io.readStdin();
  } catch (error) {
    if (error instanceof CniError) throw error;
    throw new CniError(ErrorCode.IoFailure, `reading the network configuration from stdin: ${(error as Error).message}`);
  }
}

const MINIMUM_VERSION: Partial<Record<Command, CniVersion>> = { CHECK: "0.4.0", GC: "1.1.0", STATUS: "1.1.0" };

/** The config's cniVersion must be one the plugin speaks and new enough for the command. */
function negotiateVersion(declared: unknown, supported: readonly CniVersion[], command: Command): CniVersion {
  // libcni treats a configuration without cniVersion (or with an empty one) as 0.1.0.
  const version = declared === undefined || declared === "" ? "0.1.0" : declared;
  if (typeof version !== "string") {
    throw new CniError(ErrorCode.DecodingFailure, `cniVersion must be a string, got ${JSON.stringify(version)}`);
  }
  if (!isCniVersion(version) || !supported.includes(version)) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `incompatible CNI versions: config is ${version}, plugin supports ${supported.join(", ")}`,
    );
  }
  const minimum = MINIMUM_VERSION[command];
  if (minimum && !versionAtLeast(version, minimum)) {
    throw new CniError(ErrorCode.IncompatibleVersion, `config version ${version} does not allow ${command} (needs ${minimum} or later)`);
  }
  return version;
}

/**
 * ADD, then the result in the configuration's version. A result that version cannot express
 * (0.2.0 without any address) is only found out after the work is done, so that work is undone.
 */
async function addAndEncode<C extends NetConf>(plugin: PluginDefinition<C>, request: AttachmentRequest<C>) {
  const result = await plugin.add(request);
  try {
    return encodeResult(result, request.cniVersion);
  } catch (error) {
    await plugin.del({ ...request, command: "DEL", prevResult: undefined }).catch(() => undefined);
    throw error;
  }
}

async function runNetworkCommand<C extends NetConf>(plugin: PluginDefinition<C>, request: NetworkRequest<C>): Promise<void> {
  await (request.command === "GC" ? plugin.gc?.(request) : plugin.status?.(request));
}

/**
 * GC's still-valid attachments, which the spec makes the runtime send: without them every
 * resource would look stale, so GC refuses rather than remove everything. libcni writes an empty
 * list as null (a nil Go slice), and older libcni wrote the key as "cni.dev/attachments".
 */
function parseValidAttachments(raw: Record<string, unknown>, command: "GC" | "STATUS"): GcAttachment[] {
  const key = ["cni.dev/valid-attachments", "cni.dev/attachments"].find((name) => Object.hasOwn(raw, name));
  const value = key === undefined ? undefined : raw[key];
  if (key === undefined) {
    if (command === "STATUS") return [];
    throw new CniError(ErrorCode.InvalidConfig, "invalid config: cni.dev/valid-attachments=(missing): GC needs the list of valid attachments");
  }
  if (value === null) return [];
  if (!Array.isArray(value) || !value.every(isAttachment)) {
    throw new CniError(
      ErrorCode.InvalidConfig,
      `invalid config: cni.dev/valid-attachments must be a list of {"containerID", "ifname"} objects`,
    );
  }
  return value;
}

function isAttachment(value: unknown): value is GcAttachment {
  if (typeof value !== "object" || value === null) return false;
  const { containerID, ifname } = value as Record<string, unknown>;
  return typeof containerID === "string" && typeof ifname === "string";
}

/**
 * CNI_NETNS must be a network namespace, and not the plugin's own (that would rewire the host):
 * code 4 otherwise, for every plugin, whether it opens the namespace or not. On DEL a path that
 * is gone or no longer a namespace is normal (the runtime's bind mount was removed after a crash
 * or reboot): the plugin releases what the host holds.
 */
function checkContainerNetns(path: string, command: "ADD" | "DEL" | "CHECK"): void {
  let target: NetNS;
  try {
    target = openCniNetns(path);
  } catch (error) {
    if (command === "DEL") return;
    throw error;
  }
  const own = NetNS.current();
  try {
    if (target.sameAs(own)) throw invalidEnvironment("CNI_NETNS", `${path} is the plugin's own network namespace, not a container's`);
  } finally {
    own.close();
    target.close();
  }
}
