import { mkdirSync, rmSync, statSync, utimesSync, writeFileSync, type BigIntStats } from "node:fs";
import { join } from "node:path";
import { readSmallFile } from "../sys/index.ts";

/**
 * An index from lease key (see lease.ts) to the lease files holding it, so DEL, CHECK and the
 * duplicate check of ADD read one small file instead of every lease in the directory.
 *
 * Layout: `<network dir>/.cni-ts-index/` holds one file per key, named after the key (see
 * keyFileName), containing MAGIC and a JSON line {key, leases}, plus a `fence` file (below).
 *
 * Living beside the reference. The reference's ReleaseByID, FindByID and GetByID walk the
 * network directory recursively (filepath.Walk, subdirectories included) and compare every
 * regular file's trimmed content with "<id>\r\n<ifname>" or "<id>"; GetByID also parses each
 * file's base name as an IP address. Every index file starts with MAGIC, which holds a NUL byte:
 * an ID and interface name come from environment variables, which cannot hold NUL, so no index
 * file can ever match and be released; and names starting "k-" or "h-", and "fence", never parse
 * as addresses.
 *
 * Trusting it. The reference never updates the index, so before each use we must know that
 * nobody else has added or removed a lease since we last wrote it. Any such change updates the
 * network directory's mtime; so after each of our operations that changed the directory we set
 * its mtime ourselves to a moment just before the kernel's own timestamp of our last change, and
 * record (dev, inode, mtime) in `fence`. Any later change by anyone stamps the current time,
 * which is at or after our change and so differs from the recorded value, even within the same
 * clock tick (which is why we cannot simply record the kernel's own timestamp). When the
 * recorded value no longer matches, or the index is unreadable, it is rebuilt from a full scan.
 * Changes made without the lock, or by setting the directory's mtime back, are not detected.
 */

const INDEX_DIR = ".cni-ts-index";
const FENCE_FILE = "fence";
const MAGIC = "cni-ts host-local owner index v1\0";
/** A key file lists the leases of one attachment: a few names, never megabytes (a larger one reads as damaged). */
const INDEX_FILE_LIMIT = 1024 * 1024;
/** How far before our own change the fence moves the directory's mtime. */
const FENCE_OFFSET_NS = 1_000_000n;

export interface LeaseFile {
  /** The file's name: the address as written by whoever reserved it. */
  name: string;
  key: string;
}

export class OwnerIndex {
  private readonly known = new Map<string, string[]>();
  private readonly changedKeys = new Set<string>();
  /** All keys are in `known` (after a scan), and the whole index must be rewritten. */
  private rebuilt = false;
  private leaseDirChanged = false;

  private constructor(
    private readonly leaseDir: string,
    private readonly scan: () => LeaseFile[],
    /** Whether the index on disk was trusted when opened (false: rebuilt from a scan). */
    readonly trustedOnOpen: boolean,
  ) {}

  private get indexDir(): string {
    return join(this.leaseDir, INDEX_DIR);
  }

  /** Opens the index of a network directory, rebuilding it from `scan` unless the fence holds. */
  static open(leaseDir: string, scan: () => LeaseFile[]): OwnerIndex {
    const trusted = fenceHolds(leaseDir);
    const index = new OwnerIndex(leaseDir, scan, trusted);
    if (!trusted) index.replaceAll(scan());
    return index;
  }

  /** True when the index in memory came from a scan during this operation. */
  get wasRebuilt(): boolean {
    return this.rebuilt;
  }

  /** The lease files recorded under a key. */
  leaseNames(key: string): readonly string[] {
    const cached = this.known.get(key);
    if (cached) return cached;
    if (this.rebuilt) return [];
    const names = this.readKeyFile(key);
    if (names === undefined) {
      this.replaceAll(this.scan());
      return this.known.get(key) ?? [];
    }
    this.known.set(key, names);
    return names;
  }

  add(key: string, name: string): void {
    const names = this.leaseNames(key);
    if (!names.includes(name)) this.update(key, [...names, name]);
  }

  remove(key: string, name: string): void {
    const names = this.leaseNames(key);
    if (names.includes(name)) this.update(key, names.filter((other) => other !== name));
  }

  /** Records that a lease file was created or removed in the network directory. */
  noteLeaseDirChanged(): void {
    this.leaseDirChanged = true;
  }

  /** Replaces the whole index with the result of a full scan. */
  replaceAll(leases: readonly LeaseFile[]): void {
    this.known.clear();
    this.changedKeys.clear();
    for (const { name, key } of leases) {
      const names = this.known.get(key);
      if (names) names.push(name);
      else this.known.set(key, [name]);
    }
    this.rebuilt = true;
  }

  /**
   * Writes what changed and sets the fence; call while still holding the store's lock. Leases are
   * already on disk by then, so a failure here only costs the next operation a rescan: the fence
   * is dropped and the error returned for the caller to report, not thrown.
   */
  save(): Error | undefined {
    if (!this.rebuilt && !this.leaseDirChanged && this.changedKeys.size === 0) return undefined;
    try {
      this.writeChanges();
      this.setFence();
    } catch (error) {
      this.dropFence();
      return error as Error;
    } finally {
      this.rebuilt = false;
      this.leaseDirChanged = false;
      this.changedKeys.clear();
    }
    return undefined;
  }

  private writeChanges(): void {
    if (this.rebuilt) {
      rmSync(this.indexDir, { recursive: true, force: true });
      mkdirSync(this.indexDir);
      for (const [key, names] of this.known) if (names.length > 0) this.writeKeyFile(key, names);
    } else {
      // Not rebuilt, so the fence held at open: the directory exists (and must: were it deleted
      // meanwhile, recreating it here would leave an index that lacks every other key).
      for (const key of this.changedKeys) {
        const names = this.known.get(key) ?? [];
        if (names.length > 0) this.writeKeyFile(key, names);
        else rmSync(this.keyPath(key), { force: true });
      }
    }
  }

  private dropFence(): void {
    try {
      rmSync(join(this.indexDir, FENCE_FILE), { force: true });
    } catch {
      // The index directory itself is unusable; without a readable fence nothing trusts it.
    }
  }

  private update(key: string, names: string[]): void {
    this.known.set(key, names);
    this.changedKeys.add(key);
  }

  private keyPath(key: string): string {
    return join(this.indexDir, keyFileName(key));
  }

  /** The names recorded for a key; [] when none; undefined when the file is not ours or damaged. */
  private readKeyFile(key: string): string[] | undefined {
    let text: string;
    try {
      text = readSmallFile(this.keyPath(key), INDEX_FILE_LIMIT).toString("utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      return undefined;
    }
    if (!text.startsWith(`${MAGIC}\n`)) return undefined;
    try {
      const entry = JSON.parse(text.slice(MAGIC.length + 1)) as { key?: unknown; leases?: unknown };
      if (entry.key !== key || !Array.isArray(entry.leases) || !entry.leases.every((name) => typeof name === "string")) {
        return undefined;
      }
      return entry.leases as string[];
    } catch {
      return undefined;
    }
  }

  private writeKeyFile(key: string, names: readonly string[]): void {
    writeFileSync(this.keyPath(key), `${MAGIC}\n${JSON.stringify({ key, leases: names })}\n`, { mode: 0o600 });
  }

  private setFence(): void {
    const fencePath = join(this.indexDir, FENCE_FILE);
    const before = statSync(this.leaseDir, { bigint: true });
    const target = before.mtimeNs - FENCE_OFFSET_NS;
    // Seconds as a double: precise to well under a microsecond, and the result is read back.
    utimesSync(this.leaseDir, Number(before.atimeMs) / 1000, Number(target / 1000n) / 1e6);
    const after = statSync(this.leaseDir, { bigint: true });
    if (after.mtimeNs >= before.mtimeNs) {
      // A filesystem that ignored the new time: leave no fence, so the next operation rescans.
      this.dropFence();
      return;
    }
    // Written in place, not renamed into place (~0.5 ms less per operation): every reader holds
    // the lock, and a fence torn by a crash cannot equal a fenceText, so it only costs a rescan.
    writeFileSync(fencePath, fenceText(after), { mode: 0o600 });
  }
}

/** Longest key file name spelled out; longer keys (very long container IDs) are hashed. */
const MAX_SPELLED_NAME = 200;

/**
 * "k-" and the key with every byte but [A-Za-z0-9_.-] written %XX, so `ls` shows whose file it
 * is ("k-c1%0D%0Aeth0"); or for very long keys "h-" and a 64-bit FNV-1a hash. Two keys sharing a
 * hashed name only cost a rescan: each file records its key, and a file holding another key
 * reads as damaged. (node:crypto would cost every run of the plugin milliseconds to load.)
 */
function keyFileName(key: string): string {
  const bytes = Buffer.from(key, "utf8");
  let spelled = "k-";
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    spelled += /[A-Za-z0-9_.-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (spelled.length <= MAX_SPELLED_NAME) return spelled;
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffff_ffff_ffff_ffffn;
  return `h-${hash.toString(16).padStart(16, "0")}`;
}

function fenceHolds(leaseDir: string): boolean {
  try {
    const recorded = readSmallFile(join(leaseDir, INDEX_DIR, FENCE_FILE)).toString("utf8");
    return recorded === fenceText(statSync(leaseDir, { bigint: true }));
  } catch {
    return false;
  }
}

function fenceText(stats: BigIntStats): string {
  return `${MAGIC}\n${stats.dev} ${stats.ino} ${stats.mtimeNs}\n`;
}

export const OWNER_INDEX_DIR = INDEX_DIR;
export const OWNER_INDEX_MAGIC = MAGIC;
