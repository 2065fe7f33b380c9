import { lstatSync, mkdirSync, readlinkSync, rmSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import type { FileChange } from "./errors.ts";
import { InstallError } from "./errors.ts";
import { copyToTemporary, errorCode, linkAtomically, sameContent, syncDirectory } from "./files.ts";

/**
 * The plugin executables in a node's CNI bin directory: the suite is one executable, installed
 * once and hard-linked under every plugin name. These names are the installer's to write
 * whatever holds them now (the reference plugins' binaries of the same names: replacing them is
 * the switch to this suite); no other name in the directory is ever written, moved or removed.
 */

const EXECUTABLE_MODE = 0o755;

type PluginFileState = { kind: "current" } | { kind: "absent" } | { kind: "stale"; detail: string };

export interface PluginsOutcome {
  changes: FileChange[];
  unchanged: string[];
}

/** Installs `source` as every name in `names` in `binDir`, leaving names that already hold it alone. */
export function installPlugins(source: string, binDir: string, names: readonly string[]): PluginsOutcome {
  mkdirSync(binDir, { recursive: true });
  const inspector = new PluginFileInspector(source);
  const plan = names.map((name) => ({ name, path: join(binDir, name), state: inspector.stateOf(join(binDir, name)) }));
  const stale = plan.filter((entry) => entry.state.kind !== "current");
  const unchanged = plan.filter((entry) => entry.state.kind === "current").map((entry) => entry.path);
  if (stale.length === 0) return { changes: [], unchanged };

  // A name that already holds these bytes can lend its inode to the others: one copy on disk.
  let linkTarget = unchanged[0];
  let temporary: string | undefined;
  if (linkTarget === undefined) {
    temporary = copyToTemporary(source, stale[0]!.path, EXECUTABLE_MODE);
    linkTarget = temporary;
  }
  const changes: FileChange[] = [];
  try {
    for (const { path, state } of stale) {
      linkAtomically(linkTarget, path);
      changes.push(state.kind === "stale" ? { path, action: "replaced", detail: state.detail } : { path, action: "installed" });
    }
  } finally {
    if (temporary) rmSync(temporary, { force: true });
  }
  syncDirectory(binDir);
  return { changes, unchanged };
}

/** What is wrong with the installed plugins (missing, other bytes); empty when every name holds `source`. */
export function checkPlugins(source: string, binDir: string, names: readonly string[]): string[] {
  const inspector = new PluginFileInspector(source);
  const problems: string[] = [];
  for (const name of names) {
    const path = join(binDir, name);
    const state = inspector.stateOf(path);
    if (state.kind === "absent") problems.push(`${path} is missing`);
    else if (state.kind === "stale") problems.push(`${path} is not this version's executable (${state.detail})`);
  }
  return problems;
}

/** Compares installed files with the source executable, each distinct inode once. */
class PluginFileInspector {
  private readonly sourceStats: Stats;
  private readonly verdicts = new Map<string, boolean>();

  constructor(private readonly source: string) {
    try {
      this.sourceStats = statSync(source);
    } catch (error) {
      throw new InstallError(`cannot read the executable to install, ${source}: ${(error as Error).message}`);
    }
  }

  stateOf(path: string): PluginFileState {
    let stats: Stats;
    try {
      stats = lstatSync(path);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return { kind: "absent" };
      throw new InstallError(`cannot inspect ${path}: ${(error as Error).message}`);
    }
    if (stats.isSymbolicLink()) return { kind: "stale", detail: `was a symbolic link to ${readlinkSync(path)}` };
    if (!stats.isFile()) throw new InstallError(`${path} is not a file (a directory or device is in the way of the plugin of that name): remove it`);
    if ((stats.mode & 0o777) !== EXECUTABLE_MODE) return { kind: "stale", detail: `had mode ${(stats.mode & 0o777).toString(8)}` };
    if (!this.holdsSource(path, stats)) return { kind: "stale", detail: "held another executable" };
    return { kind: "current" };
  }

  private holdsSource(path: string, stats: Stats): boolean {
    const key = `${stats.dev}:${stats.ino}`;
    let verdict = this.verdicts.get(key);
    if (verdict === undefined) {
      verdict = sameContent(path, this.source, { a: stats, b: this.sourceStats });
      this.verdicts.set(key, verdict);
    }
    return verdict;
  }
}
