import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { extname, join } from "node:path";
import { z } from "zod";
import { InstallError, type FileChange } from "./errors.ts";
import { errorCode, syncDirectory, writeFileAtomically } from "./files.ts";

/**
 * The node's configuration list in its CNI configuration directory. Unlike a plugin name, a
 * file name there carries no meaning that makes it ours: another network's configuration may
 * have any name. So the installer keeps a record, MANIFEST_NAME in the same directory, of the
 * files it wrote and their bytes' SHA-256, and writes a file only if it is absent or recorded
 * there. A file of the chosen name that it did not write is refused, never replaced.
 */

/** No .conf, .conflist or .json extension: libcni never loads it as a network. */
export const MANIFEST_NAME = ".cni-ts-installed";
const CONFIG_MODE = 0o644;
/** What libcni, containerd and CRI-O load from the directory, sorted by file name. */
const CONFIG_EXTENSIONS = new Set([".conf", ".conflist", ".json"]);

const manifestSchema = z.object({ files: z.record(z.string(), z.string()) });
type Manifest = z.infer<typeof manifestSchema>;

export interface ConflistOutcome {
  changes: FileChange[];
  unchanged: string[];
  /** What the operator should know (a configuration that runtimes pick before ours, a file left alone). */
  notes: string[];
}

/**
 * Decides how `text` becomes `fileName` in `confDir`, refusing if a file of that name is someone
 * else's; returns the step that writes it, to be taken once everything else has been settled.
 */
export function prepareConflist(confDir: string, fileName: string, text: string): () => ConflistOutcome {
  const manifest = readManifest(confDir);
  const path = join(confDir, fileName);
  const current = readIfExists(path);
  const digest = sha256(text);
  const upToDate = current !== undefined && sha256(current) === digest;
  if (current !== undefined && !upToDate && !Object.hasOwn(manifest.files, fileName)) {
    throw new InstallError(
      `refusing to replace ${path}: cni install did not write it (it is not recorded in ${join(confDir, MANIFEST_NAME)}); ` +
        "move it away if it is no longer used, or choose another file name with --conflist-name",
    );
  }
  return () => {
    mkdirSync(confDir, { recursive: true });
    const outcome: ConflistOutcome = { changes: [], unchanged: [], notes: [] };
    if (upToDate) outcome.unchanged.push(path);
    else {
      writeFileAtomically(path, text, CONFIG_MODE);
      outcome.changes.push(current === undefined ? { path, action: "installed" } : { path, action: "replaced", detail: "the template or the node's values changed" });
    }
    outcome.changes.push(...removeEarlierFiles(confDir, fileName, manifest, outcome.notes));
    const files: Manifest["files"] = { [fileName]: digest };
    if (JSON.stringify(files) !== JSON.stringify(manifest.files)) {
      writeFileAtomically(join(confDir, MANIFEST_NAME), `${JSON.stringify({ files }, null, 2)}\n`, CONFIG_MODE);
    }
    if (outcome.changes.length > 0) syncDirectory(confDir);
    const before = configurationsBefore(confDir, fileName);
    if (before.length > 0) {
      outcome.notes.push(
        `${before.join(", ")} sort${before.length === 1 ? "s" : ""} before ${fileName}: runtimes that use the first configuration of ${confDir} (containerd, CRI-O) use that, not ours`,
      );
    }
    return outcome;
  };
}

/**
 * Files an earlier run wrote under another name (the name was changed since): removed if they
 * still hold what was written, else left to whoever edited them. Either way no longer ours.
 */
function removeEarlierFiles(confDir: string, fileName: string, manifest: Manifest, notes: string[]): FileChange[] {
  const changes: FileChange[] = [];
  for (const [earlier, recorded] of Object.entries(manifest.files)) {
    if (earlier === fileName) continue;
    const earlierPath = join(confDir, earlier);
    const bytes = readIfExists(earlierPath);
    if (bytes === undefined) continue;
    if (sha256(bytes) === recorded) {
      rmSync(earlierPath);
      changes.push({ path: earlierPath, action: "removed", detail: `written by an earlier cni install; ${fileName} replaces it` });
    } else {
      notes.push(`${earlierPath} was written by an earlier cni install but edited since: left alone, and no longer recorded as ours`);
    }
  }
  return changes;
}

/** What is wrong with the installed configuration list; empty when it is the one last written. */
export function checkConflist(confDir: string, fileName: string): string[] {
  const path = join(confDir, fileName);
  const recorded = readManifest(confDir).files[fileName];
  if (recorded === undefined) return [`${path} was not written by cni install`];
  const bytes = readIfExists(path);
  if (bytes === undefined) return [`${path} is missing`];
  if (sha256(bytes) !== recorded) return [`${path} was changed since cni install wrote it`];
  const before = configurationsBefore(confDir, fileName);
  return before.length > 0 ? [`${before.join(", ")} sort before ${fileName} and are used instead`] : [];
}

function readManifest(confDir: string): Manifest {
  const path = join(confDir, MANIFEST_NAME);
  const bytes = readIfExists(path);
  if (bytes === undefined) return { files: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    parsed = undefined;
  }
  const manifest = manifestSchema.safeParse(parsed);
  if (!manifest.success) {
    throw new InstallError(`${path} is not the record cni install writes: remove it (cni install then treats the files it wrote as foreign until they are moved away)`);
  }
  return manifest.data;
}

function readIfExists(path: string): Buffer | undefined {
  try {
    if (!lstatSync(path).isFile()) throw new InstallError(`${path} is not a regular file: remove it`);
    return readFileSync(path);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    if (error instanceof InstallError) throw error;
    throw new InstallError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Network configuration files that sort before `fileName` (runtimes take the first). */
function configurationsBefore(confDir: string, fileName: string): string[] {
  return readdirSync(confDir)
    .filter((name) => CONFIG_EXTENSIONS.has(extname(name)) && name < fileName)
    .sort();
}

function sha256(bytes: Buffer | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}
