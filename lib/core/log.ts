import { writeSync } from "node:fs";

/** Diagnostics go to stderr only: stdout belongs to the result. */
export function log(message: string): void {
  writeSync(2, `${message}\n`);
}
