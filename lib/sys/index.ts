/** The few system calls Node and Bun lack, and what is built on them. See backend.ts. */
export { sys } from "./backend.ts";
export * from "./types.ts";
export { Errno, errnoMessage, errnoName } from "./errno.ts";
export { LockTimeout, lockFile } from "./lock.ts";
export { sleepSync } from "./sleep.ts";
export { FileRefused, readSmallFile, SMALL_FILE_LIMIT } from "./small-file.ts";
