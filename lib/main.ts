/**
 * The one executable behind every plugin: it looks at the name it was started under
 * (dist/bin/bridge, /opt/cni/bin/host-local, ...) and runs that plugin. Started as `cni <plugin>`
 * it takes the plugin name from its first argument instead.
 */
import { writeSync } from "node:fs";
import { basename } from "node:path";
import { pluginLoaders, type PluginName } from "../plugins/index.ts";
import type { PluginDefinition } from "./skel/index.ts";

const MULTICALL_NAME = "cni";

/**
 * Each plugin's VERSION reply, printed by the dispatcher at build time and built into the
 * executable (scripts/executable-build.ts), so that VERSION loads no plugin code. Undefined
 * when running from source.
 */
declare const CNI_TS_VERSION_REPLIES: Readonly<Record<string, string>> | undefined;

async function main(): Promise<number> {
  let name = basename(process.argv0);
  let args = process.argv.slice(2);
  if (name === MULTICALL_NAME && args.length > 0) {
    name = args[0]!;
    args = args.slice(1);
  }
  if (name === "dhcp" && args[0] === "daemon") {
    const { runDhcpDaemon } = await import("./dhcp/index.ts");
    return runDhcpDaemon(args.slice(1));
  }
  if (name === "cnitool") {
    const { runCnitool } = await import("./runtime/index.ts");
    return runCnitool(args);
  }
  if (name === "install") {
    const { runInstall } = await import("./install/index.ts");
    const executable = typeof CNI_TS_VERSION_REPLIES === "undefined" ? undefined : process.execPath;
    return runInstall(args, { pluginNames: Object.keys(pluginLoaders), executable });
  }
  if (!isPluginName(name)) {
    process.stderr.write(
      `${name}: not a plugin of this suite; run as one of: ${Object.keys(pluginLoaders).join(", ")}, cnitool, install\n`,
    );
    return 1;
  }
  const versionReply = typeof CNI_TS_VERSION_REPLIES === "undefined" ? undefined : CNI_TS_VERSION_REPLIES[name];
  if (process.env.CNI_COMMAND === "VERSION" && versionReply !== undefined) {
    writeSync(1, versionReply);
    return 0;
  }
  // Before any plugin module builds a schema; loaded only here, as VERSION needs no zod (~1 ms).
  (await import("./core/index.ts")).configureZodForOneShotParsing();
  const [{ default: plugin }, { processIO, runPlugin }] = await Promise.all([pluginLoaders[name](), import("./skel/index.ts")]);
  // Our own plugins (host-local above all) run inside this process when CNI_PATH leads back here.
  return runPlugin(plugin, processIO, loadOwnPlugin);
}

async function loadOwnPlugin(type: string): Promise<PluginDefinition | undefined> {
  if (!isPluginName(type)) return undefined;
  return (await pluginLoaders[type]()).default as PluginDefinition;
}

function isPluginName(name: string): name is PluginName {
  return Object.hasOwn(pluginLoaders, name);
}

process.exitCode = await main();
