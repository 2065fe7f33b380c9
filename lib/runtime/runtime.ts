import type { Writable } from "node:stream";
import { validateContainerId, validateInterfaceName } from "../skel/index.ts";
import { CniError, ErrorCode, Failures } from "../core/index.ts";
import { CURRENT_VERSION } from "../types/index.ts";
import { DEFAULT_CACHE_DIR, ResultCache, type CacheEntry } from "./cache.ts";
import type { NetworkConfigList, PluginConfig } from "./conflist.ts";
import { deriveAttachmentConfig, deriveGcConfig, deriveStatusConfig, type GcAttachment } from "./derive.ts";
import { CacheError, PluginError, PluginExecError, type PluginCommand, type PluginInvocation } from "./errors.ts";
import { processExecutor, type PluginParameters } from "../invoke/index.ts";
import { convertResult, readResult, type AttachmentResult } from "./result.ts";
import { decodeVersionInfo, LEGACY_VERSION_INFO, lenientVersionAtLeast, type PluginVersionInfo } from "./version.ts";

export interface RuntimeOptions {
  /** Directories searched for plugin executables (CNI_PATH); nothing else is ever executed. */
  path: readonly string[];
  /** The result cache directory (entries in its results/ subdirectory); default /var/lib/cni. */
  cacheDir?: string;
  /** Time limit for each plugin call, after which the plugin is killed; default 60 s. */
  timeoutMs?: number;
  /** The environment plugins inherit (the CNI_* variables are set over it); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where plugins' stderr goes; default process.stderr, null to drop it. */
  stderr?: Writable | null;
}

/** libcni's RuntimeConf: the per-attachment parameters (SPEC.md section 3). */
export interface RuntimeConf {
  containerId: string;
  /** The container's network namespace path; may be empty for DEL. */
  netns: string;
  ifName: string;
  /** CNI_ARGS as key/value pairs. */
  args?: readonly (readonly [string, string])[];
  /** Capability arguments; each plugin receives those it declares in `capabilities`. */
  capabilityArgs?: Readonly<Record<string, unknown>>;
}

/** Per-operation options. */
export interface CallOptions {
  /** Aborting kills the running plugin and fails the operation with PluginAbortedError. */
  signal?: AbortSignal;
  /** Overrides the runtime's time limit for each plugin call of this operation. */
  timeoutMs?: number;
}

export interface GcArgs {
  /** Attachments still in use; every other cached attachment of the network is deleted. */
  validAttachments: readonly GcAttachment[];
}

/** An attachment recorded in the cache (libcni's NetworkAttachment). */
export interface NetworkAttachment {
  containerId: string;
  network: string;
  ifName: string;
  config: Buffer;
  netns: string;
  cniArgs: (readonly [string, string])[];
  capabilityArgs: Record<string, unknown>;
}

export const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * The runtime side of CNI, as libcni's CNIConfig: executes network configuration lists for
 * attachments (ADD, CHECK, DEL), garbage-collects and asks for status, and keeps the result
 * cache libcni keeps, in the same place and format.
 */
export class CniRuntime {
  readonly path: readonly string[];
  readonly cache: ResultCache;
  private readonly timeoutMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly stderr: Writable | null;

  constructor(options: RuntimeOptions) {
    this.path = options.path;
    this.cache = new ResultCache(options.cacheDir ?? DEFAULT_CACHE_DIR);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.env = options.env ?? process.env;
    this.stderr = options.stderr === undefined ? process.stderr : options.stderr;
  }

  /**
   * ADD: runs every plugin in order, each with the previous plugin's result as prevResult, and
   * caches the final result. The result is in the version the last plugin wrote it in.
   */
  async addNetworkList(list: NetworkConfigList, rt: RuntimeConf, options: CallOptions = {}): Promise<AttachmentResult> {
    validateAttachment(list, rt);
    let result: AttachmentResult | undefined;
    for (const plugin of list.plugins) {
      const stdin = deriveAttachmentConfig(list, plugin, result?.wire, rt.capabilityArgs ?? {});
      const invocation = this.invocation(list, plugin, "ADD");
      const stdout = await this.execute(invocation, attachmentParameters(rt, this.path), stdin, options);
      result = parsePluginResult(invocation, stdout, list.cniVersion);
    }
    await this.cache.write(cacheEntryFor(list, rt, result!));
    return result!;
  }

  /**
   * CHECK (spec 0.4.0 and later): every plugin in order, with the cached result as prevResult.
   * Does nothing when the list sets disableCheck.
   */
  async checkNetworkList(list: NetworkConfigList, rt: RuntimeConf, options: CallOptions = {}): Promise<void> {
    if (!lenientVersionAtLeast(list.cniVersion, "0.4.0")) {
      throw new CniError(
        ErrorCode.IncompatibleVersion,
        `network "${list.name}": configuration version "${list.cniVersion}" does not support the CHECK command (needs 0.4.0 or later)`,
      );
    }
    if (list.disableCheck) return;
    const cached = await this.getNetworkListCachedResult(list, rt);
    for (const plugin of list.plugins) {
      const stdin = deriveAttachmentConfig(list, plugin, cached?.wire, rt.capabilityArgs ?? {});
      await this.execute(this.invocation(list, plugin, "CHECK"), attachmentParameters(rt, this.path), stdin, options);
    }
  }

  /**
   * DEL: every plugin in reverse order, with the cached result as prevResult (spec 0.4.0 and
   * later), then removes the cache entry. An unreadable entry is dropped and DEL goes on
   * without prevResult, as libcni does, so a broken cache never blocks clean-up.
   */
  async delNetworkList(list: NetworkConfigList, rt: RuntimeConf, options: CallOptions = {}): Promise<void> {
    let cached: AttachmentResult | undefined;
    if (lenientVersionAtLeast(list.cniVersion, "0.4.0")) {
      try {
        cached = await this.getNetworkListCachedResult(list, rt);
      } catch {
        await this.removeCacheEntry(list, rt);
      }
    }
    for (const plugin of [...list.plugins].reverse()) {
      const stdin = deriveAttachmentConfig(list, plugin, cached?.wire, rt.capabilityArgs ?? {});
      await this.execute(this.invocation(list, plugin, "DEL"), attachmentParameters(rt, this.path), stdin, options);
    }
    await this.removeCacheEntry(list, rt);
  }

  /**
   * GC, as libcni's GCNetworkList: deletes every cached attachment of this network that is not
   * in validAttachments, then (spec 1.1.0 and later) sends GC to every plugin. Failures do not
   * stop the rest; all of them are thrown together as an AggregateError. Does nothing when the
   * list sets disableGC.
   */
  async gcNetworkList(list: NetworkConfigList, args: GcArgs, options: CallOptions = {}): Promise<void> {
    if (list.disableGC) return;
    const failures = new Failures();
    const valid = new Set(args.validAttachments.map((attachment) => attachmentKey(attachment.containerID, attachment.ifname)));
    for (const entry of await this.cache.list()) {
      if (entry.networkName !== list.name || valid.has(attachmentKey(entry.containerId, entry.ifName))) continue;
      const rt: RuntimeConf = {
        containerId: entry.containerId,
        netns: entry.netns ?? "",
        ifName: entry.ifName,
        args: entry.cniArgs ?? [],
        capabilityArgs: entry.capabilityArgs ?? {},
      };
      await failures.attemptAsync(() => this.delNetworkList(list, rt, options), `failed to delete stale attachment ${rt.containerId} ${rt.ifName}`);
    }
    if (lenientVersionAtLeast(list.cniVersion, "1.1.0")) {
      for (const plugin of list.plugins) {
        const stdin = deriveGcConfig(list, plugin, args.validAttachments);
        await failures.attemptAsync(() => this.execute(this.invocation(list, plugin, "GC"), networkParameters(this.path), stdin, options));
      }
    }
    if (failures.errors.length > 0) {
      const messages = failures.errors.map((error) => error.message).join("; ");
      throw new AggregateError(failures.errors, `GC of network "${list.name}" failed: ${messages}`);
    }
  }

  /**
   * STATUS (spec 1.1.0 and later; for older lists there is nothing to ask and this succeeds):
   * every plugin in order; the first error is thrown, as in libcni.
   */
  async getStatusNetworkList(list: NetworkConfigList, options: CallOptions = {}): Promise<void> {
    if (!lenientVersionAtLeast(list.cniVersion, "1.1.0")) return;
    for (const plugin of list.plugins) {
      await this.execute(this.invocation(list, plugin, "STATUS"), networkParameters(this.path), deriveStatusConfig(list, plugin), options);
    }
  }

  /** The cached result of the last ADD, converted to the list's version; undefined if none. */
  async getNetworkListCachedResult(list: NetworkConfigList, rt: RuntimeConf): Promise<AttachmentResult | undefined> {
    const key = { networkName: list.name, containerId: rt.containerId, ifName: rt.ifName };
    const content = await this.cache.read(key);
    if (!content) return undefined;
    const raw = content.kind === "entry" ? content.entry.result : content.result;
    if (raw === undefined) return undefined;
    try {
      // A result that does not say its version is 0.1.0 here, as libcni decodes cache files.
      const stored = readResult(raw, "0.1.0");
      return convertResult(stored.result, list.cniVersion);
    } catch (error) {
      throw new CacheError(this.cache.filePath(key), `cached result of network "${list.name}" is unusable: ${(error as Error).message}`);
    }
  }

  /**
   * The configuration cached at ADD and the runtime parameters it was added with (CNI_ARGS and
   * capability arguments from the cache, the rest from `rt`); undefined if there is no entry.
   */
  async getNetworkListCachedConfig(list: NetworkConfigList, rt: RuntimeConf): Promise<{ config: Buffer; runtimeConf: RuntimeConf } | undefined> {
    const key = { networkName: list.name, containerId: rt.containerId, ifName: rt.ifName };
    const content = await this.cache.read(key);
    if (!content) return undefined;
    if (content.kind !== "entry") {
      throw new CacheError(this.cache.filePath(key), `cached entry of network "${list.name}" is not of kind cniCacheV1`);
    }
    const { entry } = content;
    return {
      config: entry.config,
      runtimeConf: { ...rt, args: entry.cniArgs ?? rt.args, capabilityArgs: entry.capabilityArgs ?? {} },
    };
  }

  /** Attachments recorded in the cache, optionally only one container's. */
  async getCachedAttachments(containerId = ""): Promise<NetworkAttachment[]> {
    return (await this.cache.list(containerId)).map((entry) => ({
      containerId: entry.containerId,
      network: entry.networkName,
      ifName: entry.ifName,
      config: entry.config,
      netns: entry.netns ?? "",
      cniArgs: entry.cniArgs ?? [],
      capabilityArgs: entry.capabilityArgs ?? {},
    }));
  }

  /** What a plugin answers to VERSION (plugins too old to know VERSION speak 0.1.0). */
  async getVersionInfo(type: string, options: CallOptions = {}): Promise<PluginVersionInfo> {
    const invocation: PluginInvocation = { plugin: type, command: "VERSION", network: "" };
    // Fake values for plugins built against an old skel that insists on them, as libcni sends.
    const parameters: PluginParameters = { containerId: "", netns: "dummy", ifName: "dummy", args: "", path: ["dummy"] };
    let stdout: string;
    try {
      stdout = await this.execute(invocation, parameters, JSON.stringify({ cniVersion: CURRENT_VERSION }), options);
    } catch (error) {
      if (error instanceof PluginError && error.msg === "unknown CNI_COMMAND: VERSION") return LEGACY_VERSION_INFO;
      throw error;
    }
    try {
      return decodeVersionInfo(stdout);
    } catch (error) {
      throw new PluginExecError(invocation, (error as Error).message);
    }
  }

  /**
   * libcni's ValidateNetworkList: every plugin exists and supports the list's version. Returns
   * the capabilities the list declares (sorted); throws an AggregateError naming every problem.
   */
  async validateNetworkList(list: NetworkConfigList, options: CallOptions = {}): Promise<string[]> {
    const errors: Error[] = [];
    const capabilities = new Set<string>();
    for (const plugin of list.plugins) {
      plugin.capabilities.forEach((capability) => capabilities.add(capability));
      try {
        const info = await this.getVersionInfo(plugin.type, options);
        if (!info.supportedVersions.includes(list.cniVersion)) {
          errors.push(
            new CniError(
              ErrorCode.IncompatibleVersion,
              `plugin "${plugin.type}" does not support config version "${list.cniVersion}" (it supports ${info.supportedVersions.join(", ")})`,
            ),
          );
        }
      } catch (error) {
        errors.push(error as Error);
      }
    }
    if (errors.length > 0) {
      throw new AggregateError(errors, `network "${list.name}" is not usable: ${errors.map((error) => error.message).join("; ")}`);
    }
    return [...capabilities].sort();
  }

  private invocation(list: NetworkConfigList, plugin: PluginConfig, command: PluginCommand): PluginInvocation {
    return { plugin: plugin.type, command, network: list.name };
  }

  private async execute(invocation: PluginInvocation, parameters: PluginParameters, stdin: string, options: CallOptions): Promise<string> {
    return processExecutor.run({
      invocation,
      parameters,
      findIn: this.path,
      stdin,
      baseEnv: this.env,
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      signal: options.signal,
      stderr: this.stderr,
      ownProcessGroup: true,
    });
  }

  private async removeCacheEntry(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    try {
      await this.cache.remove({ networkName: list.name, containerId: rt.containerId, ifName: rt.ifName });
    } catch {
      // libcni ignores a cache entry that cannot be removed: the attachment itself is gone
    }
  }
}

/** The checks libcni makes before ADD (and a list built by hand may lack a plugin), with the spec's error codes. */
function validateAttachment(list: NetworkConfigList, rt: RuntimeConf): void {
  if (list.plugins.length === 0) throw new CniError(ErrorCode.InvalidConfig, `network "${list.name}" has no plugins`);
  if (rt.containerId === "") throw new CniError(ErrorCode.UnknownContainer, "missing container ID");
  validateContainerId(rt.containerId);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(list.name)) {
    throw new CniError(ErrorCode.InvalidConfig, `invalid characters in network name ${JSON.stringify(list.name)}`);
  }
  validateInterfaceName(rt.ifName, "interface name");
}

function attachmentParameters(rt: RuntimeConf, path: readonly string[]): PluginParameters {
  return {
    containerId: rt.containerId,
    netns: rt.netns,
    ifName: rt.ifName,
    args: (rt.args ?? []).map(([key, value]) => `${key}=${value}`).join(";"),
    path,
  };
}

/** GC and STATUS concern the network, not an attachment: the attachment variables are empty. */
function networkParameters(path: readonly string[]): PluginParameters {
  return { containerId: "", netns: "", ifName: "", args: "", path };
}

function attachmentKey(containerId: string, ifName: string): string {
  return `${containerId}\u0000${ifName}`;
}

function parsePluginResult(invocation: PluginInvocation, stdout: string, configVersion: string): AttachmentResult {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch {
    throw new PluginExecError(invocation, `succeeded but printed something that is not a JSON result: ${JSON.stringify(stdout.slice(0, 300))}`);
  }
  try {
    return readResult(raw, configVersion);
  } catch (error) {
    throw new PluginExecError(invocation, `succeeded but its result is not valid: ${(error as Error).message}`);
  }
}

function cacheEntryFor(list: NetworkConfigList, rt: RuntimeConf, result: AttachmentResult): CacheEntry {
  return {
    containerId: rt.containerId,
    config: list.bytes,
    ifName: rt.ifName,
    networkName: list.name,
    netns: rt.netns,
    cniArgs: rt.args?.map(([key, value]) => [key, value] as const),
    capabilityArgs: rt.capabilityArgs ? { ...rt.capabilityArgs } : undefined,
    result: result.wire,
  };
}
