import { spawnSync } from "node:child_process";
import { delimiter } from "node:path";
import { CniError, ErrorCode, isExecutable, searchPath } from "../core/index.ts";

/** What one run of a firewall tool produced. */
export interface ToolOutput {
  /** Exit status; null when the tool could not be started or was killed. */
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs firewall tools (iptables-restore, iptables-save, nft, ...) synchronously, so a caller
 * inside NetNS.run gets them started in that namespace, and a test can put every call inside
 * a namespace of its own with a command prefix.
 */
export interface ToolExecutor {
  run(tool: string, args: readonly string[], input?: string): ToolOutput;
  /**
   * True when the tools run as this process itself would: in the calling thread's network
   * namespace, with this process's environment and mounts. Some questions (is there a system
   * bus, does an nftables table exist) can then be answered in-process, as the tool would
   * answer them, without the ~2-6 ms of starting it.
   */
  readonly local?: boolean;
}

/** A hung tool (say, another process holding the xtables lock) fails instead of hanging the plugin. */
const TOOL_TIMEOUT_MS = 90_000;

/**
 * Where tools are looked for after PATH: runtimes often start plugins with a PATH that lacks
 * the sbin directories the tools live in.
 */
const SBIN_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/**
 * The default limit of captured output is 1 MiB, and `iptables-save` of a busy node (kube-proxy
 * writes tens of thousands of rules) is larger: the tool would fail with ENOBUFS.
 */
const TOOL_OUTPUT_MAX_BYTES = 256 << 20;

/**
 * The executor for real use. `prefix` is put in front of every command line; tests pass
 * `["ip", "netns", "exec", name]` to keep every rule inside a namespace they made.
 */
export function commandExecutor(prefix: readonly string[] = []): ToolExecutor {
  return {
    // A prefix may run the tools elsewhere (another namespace, another environment).
    local: prefix.length === 0,
    run(tool, args, input) {
      const path = findTool(tool);
      const [command, ...rest] = [...prefix, path, ...args] as [string, ...string[]];
      const proc = spawnSync(command, rest, { input, encoding: "utf8", timeout: TOOL_TIMEOUT_MS, maxBuffer: TOOL_OUTPUT_MAX_BYTES });
      if (proc.error) {
        const reason = (proc.error as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : proc.error.message;
        return { status: null, stdout: "", stderr: `${command}: ${reason}` };
      }
      return { status: proc.status, stdout: proc.stdout, stderr: proc.stderr };
    },
  };
}

/** The path a tool runs from: PATH, then the sbin directories; the bare name when it is nowhere. */
export function findTool(tool: string): string {
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== ""), ...SBIN_DIRS];
  return searchPath(tool, dirs, isExecutable) ?? tool; // a missing tool: let the spawn report it
}

/** Runs a tool that only reads; returns its stdout or throws code 101 with its stderr. */
export function runTool(executor: ToolExecutor, tool: string, args: readonly string[]): string {
  const output = executor.run(tool, args);
  if (output.status !== 0) throw toolFailed(tool, args, output);
  return output.stdout;
}

/**
 * Feeds a script to a tool that applies it as one transaction (iptables-restore, nft -f -).
 * On failure the error names the script line the tool rejected; the whole script goes into
 * the error's details.
 */
export function applyScript(executor: ToolExecutor, tool: string, args: readonly string[], script: string): void {
  const output = executor.run(tool, args, script);
  if (output.status === 0) return;
  const failed = toolFailed(tool, args, output);
  const lineNumber = failingLine(output.stderr);
  const line = lineNumber === undefined ? undefined : script.split("\n")[lineNumber - 1];
  const where = line === undefined ? "" : ` (script line ${lineNumber}: ${line})`;
  throw new CniError(ErrorCode.FirewallFailed, `${failed.message}${where}`, script);
}

export function toolFailed(tool: string, args: readonly string[], output: ToolOutput): CniError {
  const how = output.status === null ? "could not run" : `exit status ${output.status}`;
  const said = output.stderr.trim().replace(/\s*\n\s*/g, "; ");
  return new CniError(ErrorCode.FirewallFailed, `${[tool, ...args].join(" ")} failed (${how})${said ? `: ${said}` : ""}`);
}

/**
 * The line number the tool blames: iptables-restore says "line 3 failed" or "line 3: ...",
 * iptables-legacy-restore "Error occurred at line: 3", nft "/dev/stdin:3:1-10: Error: ...".
 */
function failingLine(stderr: string): number | undefined {
  const match = /(?:\bline:? |stdin>?:)(\d+)/.exec(stderr);
  return match ? Number(match[1]) : undefined;
}

