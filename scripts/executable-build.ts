/**
 * How the shipped executable is compiled, shared by the build and by the bench (which compiles
 * an empty program the same way to measure the runtime's own start-up).
 *
 * Start-up is most of a plugin's time, so these settings are chosen by measurement
 * (bench/README.md):
 * - bytecode: modules are not parsed at start-up (a bridge ADD takes ~35 ms instead of ~55).
 * - jitPolicy 100: a plugin runs for milliseconds; compiling its start-up code (zod schema
 *   construction, mostly) with the JIT costs more CPU than it saves. 100x the tier-up
 *   thresholds keeps it in the interpreter: bridge ADD ~20% less wall time, ~35% less CPU.
 * - no .env or bunfig.toml autoloading: a plugin must not read files from the runtime's working
 *   directory (and skipping the lookup saves a little).
 * - only the parts of zod the sources use (zod-members.ts): ~3 ms less per process.
 * - each plugin's VERSION reply, computed here by the dispatcher itself and built in
 *   (CNI_TS_VERSION_REPLIES, read by lib/main.ts): VERSION then loads no plugin code
 *   (~6 ms instead of ~14).
 * - keepNames (not shipped) keeps identifiers, so CPU profiles name functions.
 */
import type { BuildConfig } from "bun";
import { join } from "node:path";
import { findZodUsage, zodMembersPlugin } from "./zod-members.ts";

const REPO_ROOT = join(import.meta.dir, "..");

export interface ExecutableBuild {
  entrypoint: string;
  outfile: string;
  keepNames?: boolean;
  /** Split dynamically imported modules into chunks evaluated only when imported. */
  splitting?: boolean;
}

export async function executableBuildConfig(build: ExecutableBuild): Promise<BuildConfig> {
  const plugin = zodPlugin();
  return {
    define: { CNI_TS_VERSION_REPLIES: JSON.stringify(await versionReplies()) },
    entrypoints: [build.entrypoint],
    target: "bun",
    compile: { outfile: build.outfile, autoloadDotenv: false, autoloadBunfig: false, jitPolicy: 100 },
    bytecode: true,
    minify: build.keepNames ? { whitespace: true, syntax: true, identifiers: false } : true,
    format: "esm",
    splitting: build.splitting ?? false,
    external: ["koffi"],
    plugins: plugin ? [plugin] : [],
  };
}

/** What each plugin prints for VERSION, as the dispatcher prints it. */
async function versionReplies(): Promise<Record<string, string>> {
  const { pluginLoaders } = await import("../plugins/index.ts");
  const { runPlugin } = await import("../lib/skel/index.ts");
  const replies: Record<string, string> = {};
  for (const [name, load] of Object.entries(pluginLoaders)) {
    let stdout = "";
    const io = { env: { CNI_COMMAND: "VERSION" }, readStdin: () => Buffer.alloc(0), writeStdout: (text: string) => void (stdout += text), writeStderr: () => undefined };
    try {
      if ((await runPlugin((await load()).default, io)) === 0) replies[name] = stdout;
    } catch (error) {
      // The executable then answers VERSION by loading the plugin, which reports the problem.
      console.warn(`note: ${name} could not be loaded at build time (${(error as Error).message}); its VERSION is not built in`);
    }
  }
  return replies;
}

function zodPlugin() {
  const usage = findZodUsage([join(REPO_ROOT, "lib"), join(REPO_ROOT, "plugins")]);
  const plugin = zodMembersPlugin(usage, Bun.resolveSync("zod", REPO_ROOT));
  if (!plugin) console.warn(`note: bundling all of zod, because ${usage.otherUses[0]}`);
  return plugin;
}

/** Builds and reports the bundler's own messages on failure. */
export async function buildExecutable(build: ExecutableBuild): Promise<void> {
  const result = await Bun.build(await executableBuildConfig(build));
  if (!result.success) {
    for (const message of result.logs) console.error(message);
    throw new Error(`building ${build.outfile} failed`);
  }
}
