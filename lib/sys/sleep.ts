/**
 * Blocks the calling thread for `ms` milliseconds. Synchronous on purpose: callers may be inside
 * a namespace switch (setns acts on the thread), where yielding to the event loop is not safe.
 */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
