import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { IPAddress } from "../ip/index.ts";
import { CniError, ErrorCode, invalidConfig } from "../core/index.ts";
import { LockTimeout, lockFile, readSmallFile } from "../sys/index.ts";
import type { AddressStore, Attachment } from "./allocator.ts";
import { attachmentKey, containerKey, leaseKey } from "./lease.ts";
import { OwnerIndex, type LeaseFile } from "./owner-index.ts";

/**
 * The reference's disk store, file for file: `<dataDir>/<network>/` holds a lease file per
 * reserved address (see lease.ts), `last_reserved_ip.<range set index>` holding the address last
 * reserved from that range set, and `lock`, which every operation holds with flock(LOCK_EX) from
 * open to close, so the reference's host-local and ours exclude each other. Lookups by owner go
 * through the owner index (owner-index.ts); everything else is the filesystem itself.
 */

const LOCK_FILE = "lock";
/** A lease holds "<container ID>\r\n<ifname>": container IDs are not longer than this in practice. */
const LEASE_FILE_LIMIT = 64 * 1024;
const LAST_RESERVED_PREFIX = "last_reserved_ip.";

/** A lease file found by a full scan. */
export interface Lease {
  /** The file name (the address as its writer printed it). */
  name: string;
  ip: IPAddress;
  /** The trimmed content: "<id>\r\n<ifname>", or "<id>" in the oldest format. */
  key: string;
}

export class HostLocalStore implements AddressStore {
  /** Opened on first use: STATUS, for one, never needs it. */
  private openedIndex: OwnerIndex | undefined;

  private constructor(
    /** The network's directory, <dataDir>/<network>. */
    readonly dir: string,
    /** The locked `lock` file; undefined once closed. */
    private lockFd: number | undefined,
  ) {}

  private get index(): OwnerIndex {
    if (!this.openedIndex) {
      try {
        this.openedIndex = OwnerIndex.open(this.dir, () => this.scan());
      } catch (error) {
        throw ioError(`reading the leases in ${this.dir}`, error);
      }
    }
    return this.openedIndex;
  }

  /** Creates the network directory if needed and takes its lock (code 5 when that fails). */
  static open(dataDir: string, network: string): HostLocalStore {
    const dir = join(dataDir, network);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
    } catch (error) {
      // A file where a directory must be (dataDir=/dev/null) is the configuration's mistake.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOTDIR" || code === "EEXIST") throw invalidConfig("ipam.dataDir", dataDir, `${dir} cannot be a directory: something else is in its way (${code})`);
      throw ioError(`creating the data directory ${dir}`, error);
    }
    return new HostLocalStore(dir, lockDirectory(dir));
  }

  /** Like open, but undefined when the network directory does not exist (nothing reserved). */
  static openExisting(dataDir: string, network: string): HostLocalStore | undefined {
    return existsSync(join(dataDir, network)) ? HostLocalStore.open(dataDir, network) : undefined;
  }

  /** Saves the owner index and releases the lock. Returns a problem worth a warning, if any. */
  close(): Error | undefined {
    if (this.lockFd === undefined) return undefined;
    const problem = this.openedIndex?.save();
    closeSync(this.lockFd);
    this.lockFd = undefined;
    return problem;
  }

  /** True when the owner index on disk was trusted at open (false: rebuilt by a full scan). */
  get indexWasTrusted(): boolean {
    return this.index.trustedOnOpen;
  }

  reserve(ip: IPAddress, attachment: Attachment, rangeSetIndex: number): boolean {
    const index = this.index; // opened (and if need be rebuilt) before the directory changes
    const name = ip.toString();
    const path = join(this.dir, name);
    const key = attachmentKey(attachment);
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw ioError(`reserving ${name}`, error);
    }
    index.noteLeaseDirChanged();
    try {
      try {
        writeSync(fd, key);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      unlinkSync(path);
      throw ioError(`writing the lease ${path}`, error);
    }
    index.add(key, name);
    try {
      writeFileSync(join(this.dir, `${LAST_RESERVED_PREFIX}${rangeSetIndex}`), name, { mode: 0o600 });
    } catch (error) {
      this.releaseLease({ name, key });
      throw ioError(`recording the last reserved address of range set ${rangeSetIndex}`, error);
    }
    return true;
  }

  lastReservedIP(rangeSetIndex: number): IPAddress | undefined {
    try {
      // Not trimmed: the reference parses the content as it is, so must we to resume alike.
      return IPAddress.tryParse(readSmallFile(join(this.dir, `${LAST_RESERVED_PREFIX}${rangeSetIndex}`), LEASE_FILE_LIMIT).toString("utf8"));
    } catch {
      return undefined;
    }
  }

  holderOf(ip: IPAddress): string | undefined {
    return this.readKey(ip.toString());
  }

  /** The reference's GetByID: leases of this attachment and of its container in the oldest format. */
  leasesOf(attachment: Attachment): IPAddress[] {
    return [...this.leasesBy(attachmentKey(attachment)), ...this.leasesBy(containerKey(attachment))].map((lease) => lease.ip);
  }

  /** The reference's FindByID: this attachment's leases, or failing that its container's oldest-format ones. */
  findLeases(attachment: Attachment): IPAddress[] {
    const exact = this.leasesBy(attachmentKey(attachment));
    return (exact.length > 0 ? exact : this.leasesBy(containerKey(attachment))).map((lease) => lease.ip);
  }

  /**
   * The reference's ReleaseByID: removes this attachment's leases, or when it has none, its
   * container's oldest-format ones. Returns the released addresses.
   */
  release(attachment: Attachment): IPAddress[] {
    let released = this.releaseKey(attachmentKey(attachment));
    if (released.length === 0) released = this.releaseKey(containerKey(attachment));
    return released.map((lease) => lease.ip);
  }

  /**
   * Addresses the allocator cannot take: every entry named by an address in canonical form,
   * whatever it holds (the reference's O_EXCL create fails on any of them). Names only; no reads.
   */
  reservedAddresses(): IPAddress[] {
    return readdirSync(this.dir).flatMap((name) => {
      const ip = IPAddress.tryParse(name);
      return ip && ip.toString() === name ? [ip] : [];
    });
  }

  /** Removes one lease if this attachment holds it (undoing a reservation of a failed ADD). */
  unreserve(ip: IPAddress, attachment: Attachment): void {
    const lease = { name: ip.toString(), ip, key: attachmentKey(attachment) };
    if (this.readKey(lease.name) === lease.key) this.releaseLease(lease);
  }

  /** Every lease in the directory, read from disk (not from the index). */
  scan(): Lease[] {
    const leases: Lease[] = [];
    for (const entry of readdirSync(this.dir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const ip = IPAddress.tryParse(entry.name);
      if (!ip) continue;
      const key = this.readKey(entry.name);
      if (key !== undefined) leases.push({ name: entry.name, ip, key });
    }
    return leases;
  }

  /** Removes one lease found by scan (GC). */
  releaseLease(lease: LeaseFile): void {
    const index = this.index; // opened (and if need be rebuilt) before the directory changes
    this.unlinkLease(lease.name);
    index.remove(lease.key, lease.name);
  }

  /**
   * The index's leases for a key, each checked against its file. An entry whose file is gone is
   * dropped; one whose file now holds another key means leases were rewritten in place, which
   * the fence cannot see, so the index is rebuilt from a scan and asked again.
   */
  private leasesBy(key: string): Lease[] {
    const leases: Lease[] = [];
    for (const name of this.index.leaseNames(key)) {
      const ip = IPAddress.tryParse(name);
      const content = this.readKey(name);
      if (ip && content === key) {
        leases.push({ name, ip, key });
      } else if (content === undefined || this.index.wasRebuilt) {
        this.index.remove(key, name);
      } else {
        this.index.replaceAll(this.scan());
        return this.leasesBy(key);
      }
    }
    return leases;
  }

  private releaseKey(key: string): Lease[] {
    const leases = this.leasesBy(key);
    for (const lease of leases) this.releaseLease(lease);
    return leases;
  }

  /** A lease file's key; undefined when it cannot be one (gone, not a regular file, too large). */
  private readKey(name: string): string | undefined {
    try {
      return leaseKey(readSmallFile(join(this.dir, name), LEASE_FILE_LIMIT).toString("utf8"));
    } catch {
      return undefined;
    }
  }

  private unlinkLease(name: string): void {
    try {
      unlinkSync(join(this.dir, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw ioError(`releasing ${name}`, error);
    }
    this.index.noteLeaseDirChanged();
  }
}

/**
 * How long an operation waits for another holder of the lock. Every holder keeps it for
 * milliseconds, so this much waiting means a stuck process; the runtime then hears code 11 and
 * retries, instead of the plugin hanging as the reference's does.
 */
export const LOCK_WAIT_MS = 10_000;
/** Opens (creating) <dir>/lock and takes an exclusive flock, waiting up to LOCK_WAIT_MS. */
function lockDirectory(dir: string): number {
  const path = join(dir, LOCK_FILE);
  try {
    return lockFile(path, LOCK_WAIT_MS);
  } catch (error) {
    if (error instanceof LockTimeout) throw new CniError(ErrorCode.TryAgainLater, `${error.message}: try again later`);
    throw ioError(`locking ${path}`, error);
  }
}

function ioError(operation: string, error: unknown): CniError {
  return new CniError(ErrorCode.IoFailure, `${operation}: ${(error as Error).message}`);
}
