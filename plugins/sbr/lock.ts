import { closeSync } from "node:fs";
import { CniError, ErrorCode } from "../../lib/skel/index.ts";
import { LockTimeout, lockFile } from "../../lib/sys/index.ts";

const LOCK_WAIT_MS = 10_000;

/**
 * Runs `work` holding an exclusive flock on the namespace's path, the lock the reference takes
 * (go-filemutex on CNI_NETNS): two sbr runs in one namespace, ours or the reference's, then
 * never choose the same free table.
 */
export async function withNamespaceLock<T>(netnsPath: string, work: () => Promise<T>): Promise<T> {
  let fd: number;
  try {
    fd = lockFile(netnsPath, LOCK_WAIT_MS);
  } catch (error) {
    if (error instanceof LockTimeout) throw new CniError(ErrorCode.TryAgainLater, `${error.message}: try again later`);
    throw new CniError(ErrorCode.IoFailure, `lock ${netnsPath}: ${(error as Error).message}`);
  }
  try {
    return await work();
  } finally {
    closeSync(fd);
  }
}
