import { statSync } from "node:fs";
import { processIO, runPlugin, type OwnPluginLoader, type PluginDefinition, type PluginIO } from "../skel/index.ts";
import { findPlugin, pluginEnv, pluginFailure, processExecutor, type PluginExecutor } from "./exec.ts";

/**
 * In-process delegation. Every plugin of the suite is one executable, so when the plugin that
 * CNI_PATH resolves to is that very executable (the file itself, or a link to it), running it in
 * a second process would only pay a second start-up for the same code. Instead its module is
 * loaded into this process and run through the same dispatcher, with the environment and stdin
 * the child would have had and its stdout captured. Anything else found on CNI_PATH (the
 * reference's host-local, another version of ours) runs through `fallback`, as a process.
 *
 * lib never imports plugins/: the entry point (lib/main.ts) knows the suite's plugins and hands
 * the dispatcher `ownPlugins`, which loads one by name; requests carry it to delegation.
 */
export function inProcessExecutor(ownPlugins: OwnPluginLoader, fallback: PluginExecutor = processExecutor): PluginExecutor {
  return {
    async run(call) {
      const executable = findPlugin(call.invocation, call.findIn ?? call.parameters.path);
      const definition = isRunningExecutable(executable) ? await ownPlugins(call.invocation.plugin) : undefined;
      if (!definition) return fallback.run(call);
      const { status, stdout } = await runInProcess(definition, pluginEnv(call), Buffer.from(call.stdin), ownPlugins);
      if (status !== 0) throw pluginFailure(call.invocation, stdout, "", status, null);
      return stdout;
    },
  };
}

/** What an in-process run printed and returned, as a child's stdout and exit status. */
export interface InProcessOutcome {
  status: number;
  stdout: string;
}

/**
 * Runs a plugin in this process as its own process would run: `env` is the environment it would
 * have inherited (also set on process.env for the call, so tools it starts inherit it too),
 * stdin is the parent's configuration, stdout is captured, stderr is ours.
 */
export async function runInProcess(
  definition: PluginDefinition,
  env: Record<string, string | undefined>,
  stdin: Buffer,
  ownPlugins?: OwnPluginLoader,
): Promise<InProcessOutcome> {
  const stdout: string[] = [];
  const io: PluginIO = {
    env,
    readStdin: () => stdin,
    writeStdout: (text) => void stdout.push(text),
    writeStderr: processIO.writeStderr,
  };
  const saved = { ...process.env };
  replaceEnvironment(env);
  try {
    const status = await runPlugin(definition, io, ownPlugins);
    return { status, stdout: stdout.join("") };
  } finally {
    replaceEnvironment(saved);
  }
}

/**
 * The running executable is `file` if both are one inode: a hard link or symbolic link to it,
 * or the file itself. The running inode is read through /proc/self/exe, which keeps naming the
 * file this process started from after an upgrade renamed a new one over its path; the new
 * file is another inode and runs as a process of its own. Under Node (tests) the running
 * executable is node itself, so delegates always run as processes there.
 */
export function isRunningExecutable(file: string): boolean {
  try {
    const running = statSync("/proc/self/exe");
    const candidate = statSync(file);
    return running.dev === candidate.dev && running.ino === candidate.ino;
  } catch {
    return false;
  }
}

/** Makes process.env hold exactly `env` (values only; the object stays the same). */
function replaceEnvironment(env: Record<string, string | undefined>): void {
  for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}
