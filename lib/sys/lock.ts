import { closeSync, constants, openSync } from "node:fs";
import { Errno } from "./errno.ts";
import { LOCK_EX, LOCK_NB, SysError } from "./types.ts";
import { sys } from "./backend.ts";
import { sleepSync } from "./sleep.ts";

const POLL_MAX_MS = 50;

/** Another process held the lock for the whole wait. */
export class LockTimeout extends Error {
  constructor(
    readonly path: string,
    readonly waitedMs: number,
  ) {
    super(`${path} stayed locked by another process for ${waitedMs / 1000} s`);
    this.name = "LockTimeout";
  }
}

/**
 * Opens (creating) `path` and takes an exclusive flock(2) on it, waiting at most `waitMs`.
 * Returns the descriptor; closing it releases the lock. Polls instead of blocking in flock so
 * that a stuck holder costs a bounded wait (LockTimeout), never a hang. Synchronous, because
 * callers may be inside a namespace switch.
 */
export function lockFile(path: string, waitMs: number): number {
  const fd = openSync(path, constants.O_RDONLY | constants.O_CREAT, 0o600);
  const deadline = Date.now() + waitMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, POLL_MAX_MS)) {
    try {
      sys.flock(fd, LOCK_EX | LOCK_NB);
      return fd;
    } catch (error) {
      const busy = error instanceof SysError && (error.errno === Errno.EWOULDBLOCK || error.errno === Errno.EINTR);
      if (busy && Date.now() < deadline) {
        sleepSync(pause);
        continue;
      }
      closeSync(fd);
      throw busy ? new LockTimeout(path, waitMs) : error;
    }
  }
}
