import { readFileSync, writeFileSync } from "node:fs";

/**
 * Sysctls under /proc/sys/net belong to the network namespace of the thread that opens the
 * file, so inside NetNS.run these read and write the container's values. Keys use "/" between
 * components ("net/ipv6/conf/eth0/accept_dad") because interface names may contain dots.
 */
export function readSysctl(key: string): string {
  return readFileSync(sysctlPath(key), "utf8").trim();
}

export function writeSysctl(key: string, value: string): void {
  writeFileSync(sysctlPath(key), value);
}

/** Writes a sysctl and ignores failure, for settings the reference also treats as best effort. */
export function trySysctl(key: string, value: string): void {
  try {
    writeSysctl(key, value);
  } catch {
    // e.g. IPv6 disabled on this host: the setting does not apply
  }
}

function sysctlPath(key: string): string {
  const parts = key.split("/");
  if (parts.some((part) => part === "" || part === "." || part === "..")) {
    throw new Error(`sysctl key "${key}" is not a plain path below /proc/sys`);
  }
  return `/proc/sys/${key}`;
}
