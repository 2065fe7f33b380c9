import { execFileSync } from "node:child_process";
import { sleepSync } from "../../lib/sys/index.ts";
import { uniqueName } from "./tag.ts";

/** A network namespace made by a test with `ip netns add`; path is what CNI_NETNS takes. */
export interface TestNetns {
  name: string;
  path: string;
  /** Runs a command inside the namespace; returns its stdout. */
  exec(command: string[], options?: { input?: string; timeoutMs?: number }): string;
  remove(): void;
}

export function createNetns(prefix = "ct"): TestNetns {
  const name = uniqueName(prefix);
  execFileSync("ip", ["netns", "add", name]);
  return {
    name,
    path: `/run/netns/${name}`,
    exec(command, options = {}) {
      return execFileSync("ip", ["netns", "exec", name, ...command], {
        input: options.input,
        timeout: options.timeoutMs ?? 30_000,
        encoding: "utf8",
      });
    },
    remove() {
      try {
        execFileSync("ip", ["netns", "delete", name], { stdio: "ignore" });
      } catch {
        // already gone
      }
    },
  };
}

/** Runs `ip` on the host and returns parsed JSON (`ip -j`). */
export function ipJson<T = unknown>(args: string[], netns?: string): T {
  const prefix = netns ? ["-n", netns] : [];
  const out = execFileSync("ip", [...prefix, "-j", ...args], { encoding: "utf8" });
  return JSON.parse(out || "[]") as T;
}

export function linkExists(name: string, netns?: string): boolean {
  try {
    execFileSync("ip", [...(netns ? ["-n", netns] : []), "link", "show", "dev", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits for a link to disappear. Deleting a namespace only drops its mount; the kernel tears the
 * namespace down (and with it the host end of its veth pairs) later, on a work queue.
 */
export function linkGoneWithin(name: string, timeoutMs: number, netns?: string): boolean {
  const deadline = Date.now() + timeoutMs;
  while (linkExists(name, netns)) {
    if (Date.now() >= deadline) return false;
    sleepSync(50);
  }
  return true;
}

export function deleteLinkIfExists(name: string, netns?: string): void {
  if (linkExists(name, netns)) {
    execFileSync("ip", [...(netns ? ["-n", netns] : []), "link", "delete", name], { stdio: "ignore" });
  }
}
