import { readSync } from "node:fs";
import { sleepSync } from "../sys/index.ts";
import { CniError, ErrorCode } from "../core/index.ts";

/**
 * The most a network configuration on stdin may hold. Real ones, prevResult and all, are a few
 * KiB; a runtime that pipes more (or /dev/zero) gets code 6 instead of a plugin reading forever.
 */
export const MAX_STDIN_BYTES = 16 * 1024 * 1024;

/** Reads stdin to its end, refusing (code 6) more than `limit` bytes. */
export function readBoundedStdin(fd = 0, limit = MAX_STDIN_BYTES): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, limit + 1 - total));
    let read: number;
    try {
      read = readSync(fd, chunk, 0, chunk.length, null);
    } catch (error) {
      // A non-blocking pipe with nothing in it yet.
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") {
        sleepSync(1);
        continue;
      }
      throw error;
    }
    if (read === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, read));
    total += read;
    if (total > limit) {
      throw new CniError(ErrorCode.DecodingFailure, `the network configuration on stdin is larger than ${limit / 1024 / 1024} MiB: no configuration is that large`);
    }
  }
}
