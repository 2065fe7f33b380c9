import { statSync } from "node:fs";
import { pluginLoaders, type PluginName } from "../../plugins/index.ts";
import { processIO, runPlugin, type PluginIO } from "../skel/dispatch.ts";
import type { PluginDefinition } from "../skel/plugin.ts";

/**
 * In-process delegation. Every plugin of the suite is one executable, so when the IPAM plugin
 * that CNI_PATH resolves to is that very executable (the file itself, or a link to it), running
 * it in a second process would only pay a second start-up for the same code. Instead its module
 * is loaded into this process and run through the same dispatcher, with the environment and
 * stdin the child would have had and its stdout captured. Anything else found on CNI_PATH (the
 * reference's host-local, another version of ours) runs as a process, as libcni's invoke
 * package would run it.
 */

/** What an in-process run printed and returned, as a child's stdout and exit status. */
export interface InProcessOutcome {
  status: number;
  stdout: string;
}

/** Our plugin named `type`, loaded, when `executable` (found on CNI_PATH) is the running executable. */
export async function ownPluginAt(type: string, executable: string): Promise<PluginDefinition | undefined> {
  if (!Object.hasOwn(pluginLoaders, type) || !isRunningExecutable(executable)) return undefined;
  const { default: definition } = await pluginLoaders[type as PluginName]();
  return definition as PluginDefinition;
}

/**
 * Runs a plugin in this process as its own process would run: `env` is the environment it would
 * have inherited (also set on process.env for the call, so tools it starts inherit it too),
 * stdin is the parent's configuration, stdout is captured, stderr is ours.
 */
export async function runInProcess(definition: PluginDefinition, env: Record<string, string | undefined>, stdin: Buffer): Promise<InProcessOutcome> {
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
    const status = await runPlugin(definition, io);
    return { status, stdout: stdout.join("") };
  } finally {
    replaceEnvironment(saved);
  }
}

/**
 * The running executable is `file` if both are one inode: a hard link or symbolic link to it,
 * or the file itself. A file replaced since this process started (an upgrade) is another inode,
 * and runs as the process it now is. Under Node (tests) the running executable is node itself,
 * so delegates always run as processes there.
 */
function isRunningExecutable(file: string): boolean {
  try {
    const running = statSync(process.execPath);
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
