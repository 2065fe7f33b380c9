/**
 * The file operations an installer on a live node needs: every new file is written under a
 * temporary name, flushed to disk and renamed over its final name, so a kubelet or runtime
 * opening it sees the old file or the new one, never half of one; and a process running the old
 * executable keeps its inode, which rename does not touch.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  linkSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
  type Stats,
} from "node:fs";
import { basename, dirname, join } from "node:path";

const CHUNK_BYTES = 1 << 20;

/**
 * A name beside `path` that nothing else uses: hidden, and ending in ".tmp", so that neither a
 * runtime looking up a plugin by its type nor libcni loading *.conf, *.conflist and *.json
 * ever picks it up.
 */
function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.cni-ts-${randomBytes(6).toString("hex")}.tmp`);
}

/** Opens a new file for writing; O_EXCL, so an existing file (of anyone) is never reused. */
function createExclusive(path: string, mode: number): number {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  fchmodSync(fd, mode); // the umask must not narrow an executable's mode
  return fd;
}

/** Runs `write` on a new temporary file beside `path`, flushes it and returns its path. */
function writeTemporary(path: string, mode: number, write: (fd: number) => void): string {
  const temporary = temporaryPath(path);
  const fd = createExclusive(temporary, mode);
  try {
    write(fd);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  return temporary;
}

function writeAll(fd: number, data: Buffer): void {
  for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset);
}

/** Moves `temporary` over `path`; removes `temporary` if that fails. */
function renameOver(temporary: string, path: string): void {
  try {
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Replaces (or creates) `path` with `data`, atomically. */
export function writeFileAtomically(path: string, data: Buffer | string, mode: number): void {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  renameOver(writeTemporary(path, mode, (fd) => writeAll(fd, bytes)), path);
}

/**
 * Copies `source` to a new temporary file beside `nearPath` (same directory, hence same file
 * system, so it can be linked and renamed there) and returns the temporary file's path.
 */
export function copyToTemporary(source: string, nearPath: string, mode: number): string {
  const input = openSync(source, constants.O_RDONLY);
  try {
    return writeTemporary(nearPath, mode, (fd) => {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      for (let read; (read = readSync(input, chunk, 0, CHUNK_BYTES, null)) > 0; ) writeAll(fd, chunk.subarray(0, read));
    });
  } finally {
    closeSync(input);
  }
}

/** Makes `path` another name of the file `existing` (a hard link), replacing what `path` was, atomically. */
export function linkAtomically(existing: string, path: string): void {
  const temporary = temporaryPath(path);
  linkSync(existing, temporary);
  renameOver(temporary, path);
}

/** Flushes a directory, so the renames made in it survive a crash of the node. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** True when the two files hold the same bytes. */
export function sameContent(a: string, b: string, sizes?: { a: Stats; b: Stats }): boolean {
  if (sizes && sizes.a.size !== sizes.b.size) return false;
  const fdA = openSync(a, constants.O_RDONLY);
  try {
    const fdB = openSync(b, constants.O_RDONLY);
    try {
      const chunkA = Buffer.allocUnsafe(CHUNK_BYTES);
      const chunkB = Buffer.allocUnsafe(CHUNK_BYTES);
      for (;;) {
        const readA = readFully(fdA, chunkA);
        const readB = readFully(fdB, chunkB);
        if (readA !== readB || !chunkA.subarray(0, readA).equals(chunkB.subarray(0, readB))) return false;
        if (readA < CHUNK_BYTES) return true;
      }
    } finally {
      closeSync(fdB);
    }
  } finally {
    closeSync(fdA);
  }
}

/** Reads until `buffer` is full or the file ends; returns the bytes read. */
function readFully(fd: number, buffer: Buffer): number {
  let total = 0;
  for (let read; total < buffer.length && (read = readSync(fd, buffer, total, buffer.length - total, null)) > 0; ) total += read;
  return total;
}

/** An error's errno code ("ENOENT"), if it has one. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined;
}
