import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

/** The full path of a command found on PATH, as a shell would find it. */
function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

/** Why a runtime test cannot run here (not root, a command missing), or undefined. */
export function missingPrerequisite(commands: string[]): string | undefined {
  if (process.getuid?.() !== 0) return "must run as root: the runtimes create namespaces, links and firewall rules";
  const missing = commands.filter((command) => !findOnPath(command));
  if (missing.length) return `missing on PATH: ${missing.join(", ")} (scripts/setup.sh installs them)`;
  return undefined;
}

/** Runs a command and returns its stdout; throws with its stderr when it fails. */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): string {
  const proc = spawnSync(command, args, {
    env: options.env ?? process.env,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 60_000,
  });
  if (proc.error) throw new Error(`${command} ${args.join(" ")}: ${proc.error.message}`);
  if (proc.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited with ${proc.status}: ${proc.stderr.trim() || proc.stdout.trim()}`);
  }
  return proc.stdout;
}
