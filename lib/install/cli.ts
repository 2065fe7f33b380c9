import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { checkConflist, prepareConflist } from "./conflist.ts";
import { InstallError, type FileChange } from "./errors.ts";
import { SERVICE_ACCOUNT_DIR } from "./kubernetes.ts";
import { resolvePodCidrs } from "./pod-cidr.ts";
import { checkPlugins, installPlugins } from "./plugins.ts";
import { DEFAULT_TEMPLATE, PLACEHOLDERS, renderTemplate, valuesNeeded } from "./template.ts";

/**
 * `cni install`: puts this executable under every plugin name into a node's CNI bin directory
 * and writes the node's configuration list, as a DaemonSet's pod does on every node
 * (deploy/kubernetes). Everything that can fail before a file is touched (the template, the pod
 * CIDR) is settled first; a second run with the same input changes nothing.
 */

export interface InstallerContext {
  /** The names the suite's plugins are installed under. */
  pluginNames: readonly string[];
  /** The compiled executable this process runs (what is installed); undefined when running from source. */
  executable: string | undefined;
}

/** Where the command reads its environment and writes its output (the process's own unless a test says otherwise). */
export interface CommandIO {
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
  stderr(text: string): void;
}

type Context = InstallerContext & CommandIO;

const processIO: CommandIO = {
  env: process.env,
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

export const DEFAULT_BIN_DIR = "/opt/cni/bin";
export const DEFAULT_CONF_DIR = "/etc/cni/net.d";
export const DEFAULT_CONFLIST_NAME = "10-cni-ts.conflist";

const USAGE = `Usage: cni install [options]

Installs this executable under every plugin name into the CNI bin directory (atomically: a
runtime never sees a half-written file, a running plugin keeps running) and writes the node's
configuration list from a template. Files that already hold the right bytes are left alone.

Options:
  --bin-dir DIR              CNI plugin directory (default ${DEFAULT_BIN_DIR})
  --conf-dir DIR             CNI configuration directory (default ${DEFAULT_CONF_DIR})
  --template FILE            configuration list template (default: built in, see lib/install/README.md)
  --conflist-name NAME       file name of the configuration list (default ${DEFAULT_CONFLIST_NAME})
  --no-conflist              install the plugins only
  --pod-cidr CIDR[,CIDR]     the node's pod CIDR(s) (default: $POD_CIDR, else the Node object)
  --node-name NAME           the node's name (default: $NODE_NAME)
  --service-account-dir DIR  token and ca.crt for the API server (default ${SERVICE_ACCOUNT_DIR})
  --source FILE              the executable to install (default: this one)
  --check                    change nothing; exit 0 if everything is installed, 1 if not
  --keep-running             after installing, stay up until SIGTERM (a DaemonSet's container)
  -h, --help                 show this text

Template placeholders:
${Object.entries(PLACEHOLDERS)
  .map(([name, { meaning }]) => `  ${name.padEnd(22)} ${meaning}`)
  .join("\n")}

The pod CIDR is looked up only if the template uses it: GET /api/v1/nodes/$NODE_NAME from
https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with the service-account token.
`;

interface Options {
  binDir: string;
  confDir: string;
  template: string | undefined;
  conflistName: string | undefined;
  podCidr: string | undefined;
  nodeName: string | undefined;
  serviceAccountDir: string;
  source: string;
  check: boolean;
  keepRunning: boolean;
}

class UsageError extends Error {}

export async function runInstall(args: readonly string[], installer: InstallerContext, io: CommandIO = processIO): Promise<number> {
  const context = { ...installer, ...io };
  let options: Options | "help";
  try {
    options = parseOptions(args, context);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof TypeError)) throw error;
    context.stderr(`cni install: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    context.stdout(USAGE);
    return 0;
  }
  try {
    if (options.check) return check(options, context);
    await install(options, context);
  } catch (error) {
    context.stderr(`cni install: ${(error as Error).message}\n`);
    return 1;
  }
  if (options.keepRunning) await untilStopped(context);
  return 0;
}

function parseOptions(args: readonly string[], context: Context): Options | "help" {
  const { values, positionals } = parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: true,
    options: {
      "bin-dir": { type: "string" },
      "conf-dir": { type: "string" },
      template: { type: "string" },
      "conflist-name": { type: "string" },
      "no-conflist": { type: "boolean" },
      "pod-cidr": { type: "string" },
      "node-name": { type: "string" },
      "service-account-dir": { type: "string" },
      source: { type: "string" },
      check: { type: "boolean" },
      "keep-running": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values["no-conflist"] && (values.template || values["conflist-name"])) throw new UsageError("--no-conflist writes no configuration list: drop --template and --conflist-name");
  const conflistName = values["no-conflist"] ? undefined : (values["conflist-name"] ?? DEFAULT_CONFLIST_NAME);
  if (conflistName !== undefined && (!conflistName.endsWith(".conflist") || conflistName.includes("/") || conflistName.startsWith("."))) {
    throw new UsageError(`--conflist-name "${conflistName}" must be a file name ending in .conflist`);
  }
  if (values.check && values["keep-running"]) throw new UsageError("--check and --keep-running exclude each other");
  const source = values.source ?? context.executable;
  if (!source) throw new UsageError("running from source, there is no executable to install: build it (npm run build) and run dist/cni install, or pass --source");
  return {
    binDir: values["bin-dir"] ?? DEFAULT_BIN_DIR,
    confDir: values["conf-dir"] ?? DEFAULT_CONF_DIR,
    template: values.template,
    conflistName,
    podCidr: values["pod-cidr"],
    nodeName: values["node-name"] ?? (context.env.NODE_NAME || undefined),
    serviceAccountDir: values["service-account-dir"] ?? SERVICE_ACCOUNT_DIR,
    source,
    check: values.check ?? false,
    keepRunning: values["keep-running"] ?? false,
  };
}

async function install(options: Options, context: Context): Promise<void> {
  const conflist = options.conflistName === undefined ? undefined : { name: options.conflistName, ...(await renderConflist(options, context)) };
  const writeConflist = conflist ? prepareConflist(options.confDir, conflist.name, conflist.text) : undefined;
  const plugins = installPlugins(options.source, options.binDir, context.pluginNames);
  const written = writeConflist ? writeConflist() : { changes: [], unchanged: [], notes: [] };

  const changes = [...plugins.changes, ...written.changes];
  for (const change of changes) context.stdout(`${describeChange(change)}\n`);
  const missing = (conflist?.types ?? []).filter((type) => !context.pluginNames.includes(type) && !existsSync(join(options.binDir, type)));
  const notes = [...written.notes, ...missing.map((type) => `the configuration list uses the plugin "${type}", which is not in ${options.binDir}`)];
  for (const note of notes) context.stderr(`cni install: note: ${note}\n`);
  const what = `${context.pluginNames.length} plugins in ${options.binDir}${conflist ? ` and ${join(options.confDir, conflist.name)}` : ""}`;
  context.stdout(changes.length === 0 ? `cni install: nothing to change: ${what} are up to date\n` : `cni install: ${changes.length} file(s) changed: ${what} are up to date\n`);
}

/** The filled-in template; the pod CIDR and node name are resolved only if it uses them. */
async function renderConflist(options: Options, context: Context): Promise<{ text: string; types: string[] }> {
  const source = options.template ?? "the built-in template";
  let template = DEFAULT_TEMPLATE;
  if (options.template) {
    try {
      template = readFileSync(options.template, "utf8");
    } catch (error) {
      throw new InstallError(`cannot read the template: ${(error as Error).message}`);
    }
  }
  const needed = valuesNeeded(template, source);
  let podCidrs: string[] | undefined;
  if (needed.has("podCidrs")) {
    const resolved = await resolvePodCidrs({ flag: options.podCidr, env: context.env, nodeName: options.nodeName, serviceAccountDir: options.serviceAccountDir });
    context.stdout(`cni install: pod CIDR ${resolved.cidrs.join(", ")} (from ${resolved.source})\n`);
    podCidrs = resolved.cidrs;
  }
  if (needed.has("nodeName") && !options.nodeName) throw new InstallError(`${source} uses __NODE_NAME__: set NODE_NAME or pass --node-name`);
  const { text, list } = renderTemplate(template, { podCidrs, nodeName: options.nodeName }, source);
  return { text, types: list.plugins.map((plugin) => plugin.type) };
}

function check(options: Options, context: Context): number {
  const problems = checkPlugins(options.source, options.binDir, context.pluginNames);
  if (options.conflistName !== undefined) problems.push(...checkConflist(options.confDir, options.conflistName));
  for (const problem of problems) context.stderr(`cni install: not ready: ${problem}\n`);
  if (problems.length === 0) context.stdout("cni install: ready: every plugin and the configuration list are installed\n");
  return problems.length === 0 ? 0 : 1;
}

function describeChange(change: FileChange): string {
  return `${change.action.padEnd(9)} ${change.path}${change.detail ? ` (${change.detail})` : ""}`;
}

/**
 * Waits for SIGTERM or SIGINT: a DaemonSet's container must keep running once it has installed.
 * The handlers are in place before the line that says so: a SIGTERM sent on reading it must
 * find them, not the default action.
 */
function untilStopped(context: Context): Promise<void> {
  const stopped = new Promise<void>((resolve) => {
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const stop = () => {
      clearInterval(keepAlive);
      resolve();
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  context.stdout("cni install: staying up until stopped\n");
  return stopped;
}
