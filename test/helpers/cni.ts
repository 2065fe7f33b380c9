import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { OUR_BIN } from "./paths.ts";

export interface PluginCall {
  command: "ADD" | "DEL" | "CHECK" | "STATUS" | "GC" | "VERSION";
  config: object | string;
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
  /** CNI_PATH; defaults to the directory the plugin lives in. */
  path?: string;
  /** Extra or overriding environment (a key set to undefined is removed). */
  env?: Record<string, string | undefined>;
  /**
   * A network namespace to run the plugin in (`ip netns exec`): a "host" of the test's own, so
   * what the plugin does to its host (links, sysctls, firewall rules) stays in there.
   */
  host?: string;
}

export interface PluginOutcome {
  status: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, or undefined when empty. */
  json: any;
}

/** Executes a plugin binary exactly as a runtime would: CNI_* in the environment, config on stdin. */
export function callPlugin(binary: string, call: PluginCall): PluginOutcome {
  const binaryPath = binary.includes("/") ? binary : join(OUR_BIN, binary);
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: call.netns,
    CNI_IFNAME: call.ifname,
    CNI_ARGS: call.args,
    CNI_PATH: call.path ?? binaryPath.slice(0, binaryPath.lastIndexOf("/")),
    ...call.env,
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const [command, ...args] = call.host ? ["ip", "netns", "exec", call.host, binaryPath] : [binaryPath];
  const proc = spawnSync(command!, args, {
    env: env as NodeJS.ProcessEnv,
    input: typeof call.config === "string" ? call.config : JSON.stringify(call.config),
    encoding: "utf8",
    timeout: 60_000,
  });
  if (proc.error) throw proc.error;
  const stdout = proc.stdout.trim();
  let json: unknown;
  if (stdout) {
    try {
      json = JSON.parse(stdout);
    } catch {
      json = undefined;
    }
  }
  return { status: proc.status ?? -1, stdout, stderr: proc.stderr, json };
}

/** Like callPlugin, but throws with the plugin's own words when it fails. */
export function mustCall(binary: string, call: PluginCall): PluginOutcome {
  const outcome = callPlugin(binary, call);
  if (outcome.status !== 0) {
    throw new Error(`${binary} ${call.command} failed (${outcome.status}): ${outcome.stdout} ${outcome.stderr}`);
  }
  return outcome;
}
