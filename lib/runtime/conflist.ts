import { readdirSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { z } from "zod";
import { formatPath } from "../core/index.ts";
import { FileRefused, readSmallFile } from "../sys/index.ts";
import { ConfigError } from "./errors.ts";
import { marshalLikeGo } from "./go-json.ts";
import { parseLenientVersion, selectListVersion } from "./version.ts";

/** One plugin of a list: its executable name, the capabilities it declares, its keys as written. */
export interface PluginConfig {
  type: string;
  /** Capabilities set to true in `capabilities`; only these receive capability arguments. */
  capabilities: ReadonlySet<string>;
  /** The plugin's configuration object exactly as written (the base of every request). */
  raw: Readonly<Record<string, unknown>>;
}

/** A network configuration list (SPEC.md section 1), as libcni's NetworkConfigList. */
export interface NetworkConfigList {
  name: string;
  /** The selected spec version: the highest usable of cniVersion and cniVersions. */
  cniVersion: string;
  disableCheck: boolean;
  disableGC: boolean;
  loadOnlyInlinedPlugins: boolean;
  plugins: PluginConfig[];
  /** The list's JSON as libcni keeps it (the file's bytes), stored as `config` in the cache. */
  bytes: Buffer;
}

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

const versionSchema = z
  .string({ error: "must be a string" })
  .refine((value) => parseLenientVersion(value) !== undefined, "is not a version of the form major.minor.patch");

/** libcni accepts booleans and also the strings "true"/"false" in any case. */
const flagSchema = z
  .union([z.boolean(), z.string().refine((text) => ["true", "false"].includes(text.toLowerCase()))], {
    error: 'must be true or false (or the string "true" or "false")',
  })
  .transform((value) => (typeof value === "boolean" ? value : value.toLowerCase() === "true"))
  .optional();

const networkNameSchema = z
  .string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") })
  .regex(NAME_PATTERN, "must start with a letter or digit and contain only letters, digits, '_', '.' and '-'");

const stringList = z.array(z.string()).optional();

/** The keys libcni decodes into types.PluginConf; a wrong type there fails the file in libcni too. */
const pluginSchema = z.looseObject({
  type: z
    .string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") })
    .min(1, "must not be empty")
    .refine((type) => !type.includes("/"), "must be a plugin name looked up in the plugin path, not a path"),
  name: z.string({ error: "must be a string" }).optional(),
  cniVersion: z.string({ error: "must be a string" }).optional(),
  capabilities: z.record(z.string(), z.boolean({ error: "must be true or false" })).optional(),
  ipam: z.looseObject({ type: z.string({ error: "must be a string" }).optional() }).optional(),
  dns: z
    .looseObject({ nameservers: stringList, domain: z.string().optional(), search: stringList, options: stringList })
    .optional(),
});

const listSchema = z.looseObject({
  name: networkNameSchema,
  cniVersion: versionSchema.optional(),
  cniVersions: z.array(versionSchema, { error: "must be a list of version strings" }).optional(),
  disableCheck: flagSchema,
  disableGC: flagSchema,
  loadOnlyInlinedPlugins: flagSchema,
  plugins: z.array(pluginSchema, { error: "must be a list of plugin configuration objects" }).min(1, "must not be empty").optional(),
});

/** A single-plugin configuration (.conf/.json): a plugin object that also names the network. */
const singlePluginSchema = pluginSchema.extend({ name: networkNameSchema, cniVersion: versionSchema.optional() });

function decodeObject(bytes: Buffer, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new ConfigError(file, undefined, `invalid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(file, undefined, "must be a JSON object");
  }
  return value as Record<string, unknown>;
}

function parseOrThrow<S extends z.ZodType>(schema: S, raw: unknown, file: string): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ConfigError(file, formatPath(issue.path as (string | number)[]) || undefined, issue.message);
}

function toPluginConfig(raw: Record<string, unknown>, parsed: z.infer<typeof pluginSchema>): PluginConfig {
  const capabilities = Object.entries(parsed.capabilities ?? {})
    .filter(([, enabled]) => enabled)
    .map(([name]) => name);
  return { type: parsed.type, capabilities: new Set(capabilities), raw };
}

/** The network name a file declares, if it is readable that far; used to attribute bad files. */
export function declaredNetworkName(bytes: Buffer): string | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString("utf8"));
    const name = (value as Record<string, unknown> | null)?.name;
    return typeof name === "string" ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Parses a configuration list (.conflist) from its JSON, as libcni's ConfListFromBytes does,
 * without the plugins of a sibling directory. `file` names the source in errors.
 */
export function networkConfigListFromBytes(bytes: Buffer | string, file = "(configuration)"): NetworkConfigList {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const raw = decodeObject(buffer, file);
  const list = parseOrThrow(listSchema, raw, file);
  if (list.plugins === undefined && list.loadOnlyInlinedPlugins) {
    throw new ConfigError(file, "plugins", "is required when loadOnlyInlinedPlugins is true");
  }
  const rawPlugins = (raw.plugins ?? []) as Record<string, unknown>[];
  return {
    name: list.name,
    // A list without any version runs at 0.1.0, the spec's default (libcni passes "" on).
    cniVersion: selectListVersion(list.cniVersion, list.cniVersions) || "0.1.0",
    disableCheck: list.disableCheck ?? false,
    disableGC: list.disableGC ?? false,
    loadOnlyInlinedPlugins: list.loadOnlyInlinedPlugins ?? false,
    plugins: (list.plugins ?? []).map((plugin, index) => toPluginConfig(rawPlugins[index]!, plugin)),
    bytes: buffer,
  };
}

/**
 * Reads a .conflist file as libcni's ConfListFromFile does: the inlined plugins, then, unless
 * loadOnlyInlinedPlugins is set, the plugin objects in <dir>/<network name>/*.conf (SPEC.md
 * section 1: plugin configurations aggregated from other sources are appended).
 */
export function networkConfigListFromFile(file: string): NetworkConfigList {
  const list = networkConfigListFromBytes(readConfigFile(file), file);
  if (!list.loadOnlyInlinedPlugins) {
    const siblingDir = join(file, "..", list.name);
    for (const pluginFile of configFiles(siblingDir, [".conf"])) {
      const raw = decodeObject(readConfigFile(pluginFile), pluginFile);
      list.plugins.push(toPluginConfig(raw, parseOrThrow(pluginSchema, raw, pluginFile)));
    }
  }
  if (list.plugins.length === 0) {
    throw new ConfigError(file, "plugins", `is missing and ${join(file, "..", list.name)}/ holds no plugin .conf files`);
  }
  return list;
}

/**
 * Reads a single-plugin configuration (.conf or .json) and wraps it as a list of one, as libcni's
 * ConfListFromConf does: the list carries only the name and cniVersion, and its bytes are the
 * wrapping object as Go writes it (sorted keys).
 */
export function networkConfigListFromPluginFile(file: string): NetworkConfigList {
  const raw = decodeObject(readConfigFile(file), file);
  const conf = parseOrThrow(singlePluginSchema, raw, file);
  const bytes = Buffer.from(marshalLikeGo({ cniVersion: conf.cniVersion ?? "", name: conf.name, plugins: [raw] }));
  return {
    name: conf.name,
    cniVersion: conf.cniVersion || "0.1.0",
    disableCheck: false,
    disableGC: false,
    loadOnlyInlinedPlugins: false,
    plugins: [toPluginConfig(raw, conf)],
    bytes,
  };
}

/** Configuration files are kilobytes; one that is larger, or no regular file, is refused unread. */
const CONFIG_FILE_LIMIT = 1024 * 1024;

export function readConfigFile(file: string): Buffer {
  try {
    return readSmallFile(file, CONFIG_FILE_LIMIT);
  } catch (error) {
    if (error instanceof FileRefused) throw new ConfigError(file, undefined, error.reason);
    throw new ConfigError(file, undefined, `cannot be read: ${(error as Error).message}`);
  }
}

/**
 * The files in `dir` with one of the extensions, sorted by name, as libcni's ConfFiles (a
 * directory that does not exist holds none; subdirectories are skipped).
 */
export function configFiles(dir: string, extensions: readonly string[]): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new ConfigError(dir, undefined, `cannot be read: ${(error as Error).message}`);
  }
  return entries
    .filter((entry) => !entry.isDirectory() && extensions.includes(extname(entry.name)))
    .map((entry) => basename(entry.name))
    .sort()
    .map((name) => join(dir, name));
}
