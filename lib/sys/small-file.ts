import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";

/**
 * Reading a file that a configuration names or that a plugin wrote earlier (resolv.conf, saved
 * settings, leases, caches) without trusting what is there: it must be a regular file and
 * small. A FIFO, a device (/dev/zero) or a socket would block the read or never end it, and a
 * 2 GB file would be read into memory whole; both are refused before a byte is read. The open
 * itself is non-blocking, so a FIFO cannot hold it either.
 */

/** The most a configuration-sized file may hold: 64 KiB, a hundred times a busy resolv.conf. */
export const SMALL_FILE_LIMIT = 64 * 1024;

/** The file exists but is not one to read: not a regular file, or too large. */
export class FileRefused extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path} ${reason}`);
    this.name = "FileRefused";
  }
}

/**
 * The contents of a regular file of at most `limit` bytes. Throws FileRefused when it is
 * anything else, and the usual errno error (ENOENT, ENOTDIR, EACCES, ...) when it cannot be opened.
 */
export function readSmallFile(path: string, limit = SMALL_FILE_LIMIT): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new FileRefused(path, `is not a regular file (it is ${kindOf(stats)})`);
    if (stats.size > limit) throw new FileRefused(path, `is ${stats.size} bytes, more than the ${limit} a file read here may have`);
    // The size can change under us (or be 0, as in /proc): read at most one byte past the limit.
    const buffer = Buffer.allocUnsafe(limit + 1);
    let length = 0;
    while (length <= limit) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > limit) throw new FileRefused(path, `grew past the ${limit} bytes a file read here may have`);
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  return "not a plain file";
}
