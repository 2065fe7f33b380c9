/**
 * The one driver both suites run through: a runtime's job (SPEC.md section 3) done in the bench
 * process itself, so only the plugins are exec'd. ADD runs a list in order, threading each
 * result into the next request as prevResult; DEL runs it in reverse with the final result, as
 * libcni does. The request bytes come from lib/runtime (libcni's derivation); only CNI_PATH
 * differs between the suites.
 */
import { join } from "node:path";
import { deriveAttachmentConfig, type NetworkConfigList } from "../../lib/runtime/index.ts";

/** A set of plugin executables: the reference's directory or ours. */
export interface Suite {
  id: "reference" | "ours";
  /** Directory of plugin executables; it is also CNI_PATH. */
  bin: string;
  /** A command line to start each plugin under (/usr/bin/time, strace, env), for untimed passes. */
  wrap?: (type: string, command: PluginCommand) => string[];
}

export type PluginCommand = "ADD" | "DEL" | "CHECK" | "VERSION";

/** The per-attachment parameters (libcni's RuntimeConf). */
export interface Attachment {
  containerId: string;
  netns: string;
  ifName: string;
  capabilityArgs?: Readonly<Record<string, unknown>>;
}

/** One plugin process, measured from spawn to exit. */
export interface PluginRun {
  type: string;
  command: PluginCommand;
  stdout: string;
  stderr: string;
  status: number;
  wallMs: number;
  /**
   * User + system CPU of the process and the children it waited for (wait4 rusage). Its peak
   * RSS is not taken from there: ru_maxrss also counts the forking bench before exec.
   */
  cpuMs: number;
}

/** A failed plugin call: it ends its scenario, since timings of a failing run mean nothing. */
export class PluginCallError extends Error {
  constructor(readonly run: PluginRun) {
    super(`${run.type} ${run.command} exited with ${run.status}: ${run.stdout.trim() || run.stderr.trim() || "(no output)"}`);
  }
}

/** What the driver gives every plugin besides CNI_*: a minimal, fixed environment. */
const BASE_ENV = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" };

/** Runs one plugin executable as a runtime does: CNI_* in the environment, config on stdin. */
export async function execPlugin(
  suite: Suite,
  type: string,
  command: PluginCommand,
  stdin: string,
  attachment: Attachment | undefined,
): Promise<PluginRun> {
  const env: Record<string, string> = {
    ...BASE_ENV,
    CNI_COMMAND: command,
    CNI_CONTAINERID: attachment?.containerId ?? "",
    CNI_NETNS: attachment?.netns ?? "",
    CNI_IFNAME: attachment?.ifName ?? "",
    CNI_ARGS: "",
    CNI_PATH: suite.bin,
  };
  const started = performance.now();
  const argv = [...(suite.wrap?.(type, command) ?? []), join(suite.bin, type)];
  const proc = Bun.spawn(argv, { env, stdin: Buffer.from(stdin), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const wallMs = performance.now() - started;
  const usage = proc.resourceUsage();
  return {
    type,
    command,
    stdout,
    stderr,
    status,
    wallMs,
    cpuMs: usage ? Number(usage.cpuTime.total) / 1000 : Number.NaN,
  };
}

async function mustExec(suite: Suite, type: string, command: PluginCommand, stdin: string, attachment: Attachment): Promise<PluginRun> {
  const run = await execPlugin(suite, type, command, stdin, attachment);
  if (run.status !== 0) throw new PluginCallError(run);
  return run;
}

/** The outcome of running a whole list for one attachment. */
export interface ListRun {
  wallMs: number;
  runs: PluginRun[];
  /** ADD only: the final result, as the runtime would cache it. */
  result?: Record<string, unknown>;
}

/** ADD through every plugin in order, each receiving the previous plugin's result. */
export async function addList(suite: Suite, list: NetworkConfigList, attachment: Attachment): Promise<ListRun> {
  const started = performance.now();
  const runs: PluginRun[] = [];
  let result: Record<string, unknown> | undefined;
  for (const plugin of list.plugins) {
    const stdin = deriveAttachmentConfig(list, plugin, result, attachment.capabilityArgs ?? {});
    const run = await mustExec(suite, plugin.type, "ADD", stdin, attachment);
    runs.push(run);
    result = JSON.parse(run.stdout) as Record<string, unknown>;
  }
  return { wallMs: performance.now() - started, runs, result };
}

/** DEL through every plugin in reverse order, each with the final ADD result as prevResult. */
export async function delList(
  suite: Suite,
  list: NetworkConfigList,
  attachment: Attachment,
  result: Record<string, unknown> | undefined,
): Promise<ListRun> {
  const started = performance.now();
  const runs: PluginRun[] = [];
  for (const plugin of [...list.plugins].reverse()) {
    const stdin = deriveAttachmentConfig(list, plugin, result, attachment.capabilityArgs ?? {});
    runs.push(await mustExec(suite, plugin.type, "DEL", stdin, attachment));
  }
  return { wallMs: performance.now() - started, runs };
}
