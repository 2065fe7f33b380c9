import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CniError, decodeJson, ErrorCode, invalidConfig, log, type GcAttachment } from "../../lib/skel/index.ts";
import { FileRefused, readSmallFile } from "../../lib/sys/index.ts";

/**
 * The interface's settings from before ADD changed them, kept in a file until DEL puts them
 * back. File name and JSON are the reference's, so either plugin restores what the other saved:
 * `<dataDir>/<containerID>_<ifname>.json`, written as Go's json.MarshalIndent(v, "", " ") writes
 * the reference's struct (these keys in this order, unset ones left out). Only the settings
 * ADD changed are present.
 *
 * `network` is this plugin's addition: the file name does not say which network the
 * attachment belongs to, and several networks share the default directory, so GC removes only
 * files that name its own network. The reference's decoder ignores the key.
 */
export interface SavedState {
  mac?: string;
  promisc?: boolean;
  mtu?: number;
  allmulti?: boolean;
  txQLen?: number;
  network?: string;
}

export interface Attachment {
  containerId: string;
  ifname: string;
}

export function savedStatePath(dataDir: string, attachment: Attachment): string {
  return join(dataDir, fileName(attachment.containerId, attachment.ifname));
}

function fileName(containerId: string, ifname: string): string {
  return `${containerId}_${ifname}.json`;
}

export function serializeSavedState(state: SavedState): string {
  const { mac, promisc, mtu, allmulti, txQLen, network } = state;
  return JSON.stringify({ mac: mac || undefined, promisc, mtu: mtu || undefined, allmulti, txQLen, network }, null, 1);
}

/**
 * Creates the data directory if it is missing, before ADD changes anything: a dataDir that
 * cannot be a directory (a file, /dev/null) is a configuration error (code 7) naming it.
 */
export function prepareDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTDIR") {
      throw invalidConfig("dataDir", dataDir, `must be a directory (or a path where one can be created), but something else is in its way (${code})`);
    }
    throw new CniError(ErrorCode.IoFailure, `creating the data directory ${dataDir}: ${(error as Error).message}`);
  }
}

/** Writes the file whole or not at all (a rename), so a crash never leaves half of one for DEL. */
export function writeSavedState(path: string, state: SavedState): void {
  const directory = join(path, "..");
  const temporary = join(directory, `.${process.pid}.tmp`);
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    writeFileSync(temporary, serializeSavedState(state), { mode: 0o600 });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new CniError(ErrorCode.IoFailure, `saving the interface's original settings to ${path}: ${(error as Error).message}`);
  }
}

export type SavedStateRead = { found: false } | { found: true; state: SavedState } | { found: true; corrupt: string };

/**
 * Reads a saved state; values of the wrong type are left out, as Go's decoder would fail on them.
 * Nothing is there when the data directory is missing or is no directory; a file that is not a
 * small regular file of JSON is corrupt.
 */
export function readSavedState(path: string): SavedStateRead {
  let text: string;
  try {
    text = readSmallFile(path).toString("utf8");
  } catch (error) {
    if (error instanceof FileRefused) return { found: true, corrupt: error.reason };
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { found: false };
    throw new CniError(ErrorCode.IoFailure, `reading saved settings ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = decodeJson(text, "the saved settings");
  } catch (error) {
    return { found: true, corrupt: (error as Error).message };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { found: true, corrupt: "not a JSON object" };
  const record = value as Record<string, unknown>;
  const state: SavedState = {};
  for (const [key, type] of SAVED_KEYS) {
    if (typeof record[key] === type) Object.assign(state, { [key]: record[key] });
  }
  return { found: true, state };
}

const SAVED_KEYS: [keyof SavedState, "string" | "number" | "boolean"][] = [
  ["mac", "string"],
  ["promisc", "boolean"],
  ["mtu", "number"],
  ["allmulti", "boolean"],
  ["txQLen", "number"],
  ["network", "string"],
];

/** Removes a saved state; what cannot be removed (a directory in its place) is reported, never thrown: DEL must go on. */
export function removeSavedState(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch (error) {
    log(`tuning: could not remove ${path}: ${(error as Error).message}`);
  }
}

/**
 * GC: removes the saved states of this network whose attachment is not among the valid ones.
 * Files without a network (written by the reference) cannot be attributed and stay.
 * Returns what could not be removed.
 */
export function collectSavedStates(dataDir: string, network: string, valid: readonly GcAttachment[]): string[] {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    return [`listing ${dataDir}: ${(error as Error).message}`];
  }
  const keep = new Set(valid.map((attachment) => fileName(attachment.containerID, attachment.ifname)));
  const failures: string[] = [];
  for (const name of names) {
    if (!name.endsWith(".json") || keep.has(name)) continue;
    const path = join(dataDir, name);
    try {
      const saved = readSavedState(path);
      if (saved.found && "state" in saved && saved.state.network === network) removeSavedState(path);
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  return failures;
}
