/**
 * The system-call backend, chosen once at load time: bun:ffi inside the compiled executable
 * (which cannot load koffi's native module), koffi under Node for development and tests.
 */
import type { Sys } from "./types.ts";

export const sys: Sys = process.versions.bun
  ? (await import("./bun.ts")).bunSys
  : (await import("./node.ts")).nodeSys;
