/**
 * Version arithmetic as libcni does it. libcni is more lenient than semver: "" means 0.1.0 (the
 * spec's default), and "1" or "1.0" are read as 1.0.0. Configurations in the wild rely on it.
 */
import { compareVersionNumbers } from "../core/index.ts";
import { compareVersions, isCniVersion, type CniVersion } from "../types/index.ts";

type VersionTriple = [number, number, number];

/** Parses a version the way libcni does; undefined when it is not a version at all. */
export function parseLenientVersion(version: string): VersionTriple | undefined {
  if (version === "") return [0, 1, 0];
  const parts = version.split(".");
  if (parts.length > 3) return undefined;
  const numbers = parts.map((part) => (/^[+-]?\d+$/.test(part) ? Number(part) : Number.NaN));
  if (numbers.some((value) => Number.isNaN(value))) return undefined;
  return [numbers[0]!, numbers[1] ?? 0, numbers[2] ?? 0];
}

/** True when `version` is at least `minimum`; false for text that is not a version. */
export function lenientVersionAtLeast(version: string, minimum: CniVersion): boolean {
  const parsed = parseLenientVersion(version);
  return parsed !== undefined && compareVersionNumbers(parsed, parseLenientVersion(minimum)!) >= 0;
}

/**
 * The version a configuration list runs at (SPEC.md "Version considerations"): the highest of
 * `cniVersion` and `cniVersions` that this runtime speaks. libcni drops entries newer than the
 * version it implements; we also drop entries that are no spec version at all (say "1.0.5"),
 * since results cannot be converted to them. With nothing usable left, `cniVersion` stands as
 * written and the plugins judge it, as in libcni.
 */
export function selectListVersion(cniVersion: string | undefined, cniVersions: readonly string[] | undefined): string {
  const declared = cniVersion ?? "";
  if (!cniVersions) return declared;
  const candidates = [...cniVersions, ...(declared === "" ? [] : [declared])].filter(isCniVersion);
  candidates.sort(compareVersions);
  return candidates.at(-1) ?? declared;
}

/** What a plugin answered to VERSION. */
export interface PluginVersionInfo {
  cniVersion: string;
  supportedVersions: string[];
}

/**
 * Reads a VERSION answer as libcni's PluginDecoder does: cniVersion is required; a plugin from
 * the 0.2.0 era may omit supportedVersions, which then means 0.1.0 and 0.2.0. Throws an Error
 * saying what is wrong with the answer.
 */
export function decodeVersionInfo(stdout: string): PluginVersionInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch (error) {
    throw new Error(`the VERSION answer is not JSON: ${(error as Error).message}`);
  }
  const { cniVersion, supportedVersions } = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  if (typeof cniVersion !== "string" || cniVersion === "") throw new Error("the VERSION answer has no cniVersion");
  if (supportedVersions === undefined || (Array.isArray(supportedVersions) && supportedVersions.length === 0)) {
    if (cniVersion === "0.2.0") return { cniVersion, supportedVersions: ["0.1.0", "0.2.0"] };
    throw new Error("the VERSION answer has no supportedVersions");
  }
  if (!Array.isArray(supportedVersions) || !supportedVersions.every((version) => typeof version === "string")) {
    throw new Error("the VERSION answer's supportedVersions is not a list of strings");
  }
  return { cniVersion, supportedVersions };
}

/** The answer libcni assumes for plugins so old they do not know the VERSION command. */
export const LEGACY_VERSION_INFO: PluginVersionInfo = { cniVersion: "0.1.0", supportedVersions: ["0.1.0"] };
