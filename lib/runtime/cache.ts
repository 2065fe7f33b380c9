import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { readSmallFile } from "../sys/index.ts";
import { CacheError } from "./errors.ts";
import { marshalLikeGo } from "./go-json.ts";

/** libcni's default cache directory; entries live in its results/ subdirectory. */
export const DEFAULT_CACHE_DIR = "/var/lib/cni";
export const CACHE_KIND = "cniCacheV1";

/**
 * One cache entry, libcni's cachedInfo: written after a successful ADD, read by CHECK, DEL and
 * GC. The field names and order, `config` as base64 (Go's encoding of []byte), and the omission
 * of empty optional fields are libcni's, so either runtime reads what the other wrote.
 */
export interface CacheEntry {
  containerId: string;
  /** The network configuration list's JSON as it was at ADD. */
  config: Buffer;
  ifName: string;
  networkName: string;
  netns?: string;
  cniArgs?: (readonly [string, string])[];
  capabilityArgs?: Record<string, unknown>;
  /** The final result of ADD in its wire shape; absent in entries that have none. */
  result?: Record<string, unknown>;
}

const cacheEntrySchema = z.looseObject({
  kind: z.string(),
  containerId: z.string().default(""),
  config: z.string().default(""),
  ifName: z.string().default(""),
  networkName: z.string().default(""),
  netns: z.string().optional(),
  cniArgs: z.array(z.tuple([z.string(), z.string()])).nullish(),
  capabilityArgs: z.record(z.string(), z.unknown()).nullish(),
  result: z.record(z.string(), z.unknown()).nullish(),
});

/** The identity of an attachment's cache file. */
export interface CacheKey {
  networkName: string;
  containerId: string;
  ifName: string;
}

/** What a cache file holds: a cniCacheV1 entry, or (from libcni before 0.8) a bare result. */
export type CacheFileContent = { kind: "entry"; entry: CacheEntry } | { kind: "legacy"; result: unknown };

/** A cache entry holds a configuration and a result: kilobytes. A file larger than this (or no regular file) is unreadable. */
const CACHE_FILE_LIMIT = 1024 * 1024;

export class ResultCache {
  /** `dir` is the cache directory (libcni's CacheDir); files go to dir/results. */
  constructor(readonly dir: string = DEFAULT_CACHE_DIR) {}

  /** results/<network>-<container ID>-<ifname>, the name libcni gives the file. */
  filePath(key: CacheKey): string {
    if (!key.networkName || !key.containerId || !key.ifName) {
      throw new CacheError(
        join(this.dir, "results"),
        `a cache file needs network name (${JSON.stringify(key.networkName)}), container ID (${JSON.stringify(key.containerId)}) and interface name (${JSON.stringify(key.ifName)})`,
      );
    }
    return join(this.dir, "results", `${key.networkName}-${key.containerId}-${key.ifName}`);
  }

  async write(entry: CacheEntry): Promise<void> {
    const file = this.filePath(entry);
    try {
      await mkdir(join(this.dir, "results"), { recursive: true, mode: 0o700 });
      // Written aside and renamed, so a reader never sees half an entry.
      const partial = `${file}.${process.pid}.tmp`;
      await writeFile(partial, encodeEntry(entry), { mode: 0o600 });
      await rename(partial, file);
    } catch (error) {
      throw new CacheError(file, `cannot be written: ${(error as Error).message}`);
    }
  }

  /** The file's content; undefined when there is no readable file (libcni ignores read errors). */
  async read(key: CacheKey): Promise<CacheFileContent | undefined> {
    const file = this.filePath(key);
    let text: string;
    try {
      text = readSmallFile(file, CACHE_FILE_LIMIT).toString("utf8");
    } catch {
      return undefined;
    }
    return decodeFile(text, file);
  }

  async remove(key: CacheKey): Promise<void> {
    await rm(this.filePath(key), { force: true });
  }

  /**
   * Every cniCacheV1 entry, sorted by file name, optionally only those of one container
   * (libcni's GetCachedAttachments: unreadable files and entries without a network or interface
   * name are skipped).
   */
  async list(containerId = ""): Promise<CacheEntry[]> {
    const resultsDir = join(this.dir, "results");
    let names: string[];
    try {
      names = (await readdir(resultsDir)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new CacheError(resultsDir, `cannot be listed: ${(error as Error).message}`);
    }
    const entries: CacheEntry[] = [];
    for (const name of names) {
      if (containerId && !name.includes(`-${containerId}-`)) continue;
      let content: CacheFileContent | undefined;
      try {
        content = decodeFile(readSmallFile(join(resultsDir, name), CACHE_FILE_LIMIT).toString("utf8"), name);
      } catch {
        continue;
      }
      if (content?.kind !== "entry") continue;
      const { entry } = content;
      if (containerId && entry.containerId !== containerId) continue;
      if (!entry.ifName || !entry.networkName) continue;
      entries.push(entry);
    }
    return entries;
  }
}

function decodeFile(text: string, file: string): CacheFileContent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CacheError(file, `is not JSON: ${(error as Error).message}`);
  }
  const parsed = cacheEntrySchema.safeParse(raw);
  if (!parsed.success || parsed.data.kind !== CACHE_KIND) return { kind: "legacy", result: raw };
  const data = parsed.data;
  const entry: CacheEntry = {
    containerId: data.containerId,
    config: Buffer.from(data.config, "base64"),
    ifName: data.ifName,
    networkName: data.networkName,
  };
  if (data.netns) entry.netns = data.netns;
  if (data.cniArgs) entry.cniArgs = data.cniArgs;
  if (data.capabilityArgs) entry.capabilityArgs = data.capabilityArgs;
  if (data.result) entry.result = data.result;
  return { kind: "entry", entry };
}

/** The entry in Go's struct field order; nested maps with sorted keys, as Go writes them. */
function encodeEntry(entry: CacheEntry): string {
  const fields: [string, unknown][] = [
    ["kind", CACHE_KIND],
    ["containerId", entry.containerId],
    ["config", entry.config.toString("base64")],
    ["ifName", entry.ifName],
    ["networkName", entry.networkName],
  ];
  if (entry.netns) fields.push(["netns", entry.netns]);
  if (entry.cniArgs?.length) fields.push(["cniArgs", entry.cniArgs]);
  if (entry.capabilityArgs && Object.keys(entry.capabilityArgs).length > 0) fields.push(["capabilityArgs", entry.capabilityArgs]);
  if (entry.result) fields.push(["result", entry.result]);
  return `{${fields.map(([key, value]) => `${JSON.stringify(key)}:${marshalLikeGo(value)}`).join(",")}}`;
}
