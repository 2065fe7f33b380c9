import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CniError, ErrorCode, type GcAttachment } from "../../lib/skel/index.ts";

/**
 * What a device was like on the host before ADD moved it (name, MAC, MTU, alias), kept until
 * DEL has put it back. The reference keeps only the name, in the link's alias; the alias stays
 * our primary record too (so either plugin can move back what the other moved in), and this file
 * adds what the alias cannot hold.
 */
export interface OriginalDevice {
  /** The name on the host. */
  device: string;
  mac?: string;
  mtu: number;
  /** The alias the device had before ours replaced it. */
  alias?: string;
  /** The network the attachment belongs to, so GC removes only its own files. */
  network: string;
}

export const STATE_DIR = "/var/lib/cni/host-device";

export interface AttachmentKey {
  containerId: string;
  ifname: string;
}

function statePath(key: AttachmentKey): string {
  return join(STATE_DIR, `${key.containerId}_${key.ifname}.json`);
}

/** Written whole or not at all (a rename), so DEL never reads half a file. */
export function saveOriginal(key: AttachmentKey, original: OriginalDevice): void {
  const path = statePath(key);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
    writeFileSync(temporary, JSON.stringify(original), { mode: 0o600 });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new CniError(ErrorCode.IoFailure, `saving the device's original settings to ${path}: ${(error as Error).message}`);
  }
}

/** The saved record; undefined when there is none or it is unreadable (DEL then goes by the alias alone). */
export function readOriginal(key: AttachmentKey): OriginalDevice | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(statePath(key), "utf8"));
    return isOriginalDevice(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function forgetOriginal(key: AttachmentKey): void {
  rmSync(statePath(key), { force: true });
}

/** GC: removes the records of this network whose attachment the runtime no longer lists. */
export function forgetStale(network: string, valid: readonly GcAttachment[]): void {
  const keep = new Set(valid.map((attachment) => `${attachment.containerID}_${attachment.ifname}.json`));
  let files: string[];
  try {
    files = readdirSync(STATE_DIR);
  } catch {
    return;
  }
  for (const file of files) {
    if (!file.endsWith(".json") || keep.has(file)) continue;
    const path = join(STATE_DIR, file);
    try {
      const value: unknown = JSON.parse(readFileSync(path, "utf8"));
      if (isOriginalDevice(value) && value.network === network) rmSync(path, { force: true });
    } catch {
      // Not ours to judge: another network's file being written, or not a record at all.
    }
  }
}

function isOriginalDevice(value: unknown): value is OriginalDevice {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.device === "string" &&
    typeof record.mtu === "number" &&
    typeof record.network === "string" &&
    (record.mac === undefined || typeof record.mac === "string") &&
    (record.alias === undefined || typeof record.alias === "string")
  );
}
