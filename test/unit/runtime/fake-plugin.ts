import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A stand-in plugin for runtime tests: a bash script that records its stdin and environment
 * and answers with canned output, so a test sees exactly what a runtime sends each plugin.
 */
export interface FakePluginOptions {
  /** Printed on ADD (default: a small 1.1.0 result naming the plugin's interface). */
  addResult?: object | string;
  /** Answer to VERSION (default: every version up to 1.1.0). */
  supportedVersions?: string[];
  /** Commands that fail with this error object and exit status 1. */
  failOn?: { commands: string[]; error: object };
  /** A command on which the plugin never finishes: it waits for a child that sleeps, whose pid goes to <recordDir>/hang.pid. */
  hangOn?: string;
  /** Written to stderr on every call. */
  stderr?: string;
}

export interface RecordedCall {
  plugin: string;
  command: string;
  /** stdin exactly as received. */
  stdin: string;
  /** The spec's CNI_* parameters the plugin saw. */
  cniEnv: Record<string, string>;
}

/** The spec's parameters (SPEC.md section 2); other CNI_* variables of the test's own environment are left out. */
const CNI_PARAMETERS = ["CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"];

const ALL_VERSIONS = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Writes <pluginDir>/<type>, which records into recordDir. */
export function createFakePlugin(pluginDir: string, recordDir: string, type: string, options: FakePluginOptions = {}): string {
  mkdirSync(pluginDir, { recursive: true });
  mkdirSync(recordDir, { recursive: true });
  const addResult =
    typeof options.addResult === "string"
      ? options.addResult
      : JSON.stringify(options.addResult ?? { cniVersion: "1.1.0", interfaces: [{ name: `${type}0` }], dns: {} });
  const version = JSON.stringify({ cniVersion: "1.1.0", supportedVersions: options.supportedVersions ?? ALL_VERSIONS });
  const lines = [
    "#!/bin/bash",
    `record=${shellQuote(recordDir)}`,
    'n=$(( $(cat "$record/seq" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$record/seq"',
    `base="$record/$(printf %04d "$n").${type}.$CNI_COMMAND"`,
    // The environment first: a call killed early (by a time limit) still has both files once .stdin exists.
    'env -0 > "$base.env"',
    'cat > "$base.stdin"',
    ...(options.stderr ? [`printf '%s\\n' ${shellQuote(options.stderr)} >&2`] : []),
    'case "$CNI_COMMAND" in',
    ...(options.hangOn ? [`  ${options.hangOn}) sleep 100000 & echo $! > "$record/hang.pid"; wait; exit 0 ;;`] : []),
    ...(options.failOn ? [`  ${options.failOn.commands.join("|")}) printf '%s' ${shellQuote(JSON.stringify(options.failOn.error))}; exit 1 ;;`] : []),
    `  VERSION) printf '%s' ${shellQuote(version)} ;;`,
    `  ADD) printf '%s' ${shellQuote(addResult)} ;;`,
    "esac",
    "",
  ];
  const file = join(pluginDir, type);
  writeFileSync(file, lines.join("\n"));
  chmodSync(file, 0o755);
  return file;
}

/** Every call recorded in recordDir, in the order they happened. */
export function readCalls(recordDir: string): RecordedCall[] {
  return readdirSync(recordDir)
    .filter((name) => name.endsWith(".stdin"))
    .sort()
    .map((name) => {
      const [, plugin, command] = /^\d+\.(.+)\.([A-Z]+)\.stdin$/.exec(name)!;
      const base = join(recordDir, name.slice(0, -".stdin".length));
      const cniEnv: Record<string, string> = {};
      for (const pair of readFileSync(`${base}.env`, "utf8").split("\0")) {
        const eq = pair.indexOf("=");
        if (CNI_PARAMETERS.includes(pair.slice(0, eq))) cniEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      return { plugin: plugin!, command: command!, stdin: readFileSync(`${base}.stdin`, "utf8"), cniEnv };
    });
}
