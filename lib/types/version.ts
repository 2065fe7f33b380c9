import { compareVersionNumbers } from "../core/index.ts";

/** CNI spec versions this suite speaks, oldest first. */
export const CNI_VERSIONS = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] as const;

export type CniVersion = (typeof CNI_VERSIONS)[number];

export const CURRENT_VERSION: CniVersion = "1.1.0";

export function isCniVersion(value: string): value is CniVersion {
  return (CNI_VERSIONS as readonly string[]).includes(value);
}

/** Parses "major.minor.patch" into numbers; undefined when the text is not of that form. */
export function parseSemver(version: string): [number, number, number] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** Compares two dotted versions; throws on text that is not a version. */
export function compareVersions(a: string, b: string): number {
  const left = parseSemver(a);
  const right = parseSemver(b);
  if (!left) throw new Error(`"${a}" is not a version of the form major.minor.patch`);
  if (!right) throw new Error(`"${b}" is not a version of the form major.minor.patch`);
  return compareVersionNumbers(left, right);
}

export function versionAtLeast(version: string, minimum: string): boolean {
  return compareVersions(version, minimum) >= 0;
}
