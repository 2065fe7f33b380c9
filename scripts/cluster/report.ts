/**
 * How the demos print: numbered steps, and one line per checked claim, `ok` or `FAIL`. Any
 * failed check fails the demo (failureCount).
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";

const color = (code: number) => (text: string) => (process.stdout.isTTY ? `\x1b[${code}m${text}\x1b[0m` : text);
export const bold = color(1);
export const green = color(32);
export const red = color(31);
export const dim = color(2);

let failures = 0;

export function step(title: string): void {
  console.log(`\n${bold(`== ${title}`)}`);
}

export function check(claim: string, ok: boolean, detail = ""): boolean {
  if (ok) console.log(`  ${green("ok")}   ${claim}${detail ? dim(`  (${detail})`) : ""}`);
  else {
    failures++;
    console.log(`  ${red("FAIL")} ${claim}${detail ? `  (${detail})` : ""}`);
  }
  return ok;
}

export function failureCount(): number {
  return failures;
}

export function recordFailure(): void {
  failures++;
}

export interface Outcome {
  status: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to completion; never throws (the outcome says what happened). */
export function run(command: string, args: string[], options: SpawnSyncOptions = {}): Outcome {
  const started = performance.now();
  const child = spawnSync(command, args, { encoding: "utf8", timeout: 60_000, ...options });
  const stderr = String(child.stderr ?? "") + (child.error ? child.error.message : "");
  return { status: child.status ?? -1, stdout: String(child.stdout ?? ""), stderr, ms: performance.now() - started };
}

/** Runs a set-up command that must succeed; throws with its own words when it does not. */
export function must(command: string, args: string[]): string {
  const outcome = run(command, args);
  if (outcome.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${outcome.stderr.trim() || outcome.stdout.trim()}`);
  return outcome.stdout;
}
