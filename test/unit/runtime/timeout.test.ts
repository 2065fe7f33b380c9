import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CniRuntime,
  networkConfigListFromBytes,
  PluginAbortedError,
  PluginTimeoutError,
  type NetworkConfigList,
} from "../../../lib/runtime/index.ts";
import { createFakePlugin, readCalls } from "./fake-plugin.ts";

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "runtime-timeout-"));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const rt = { containerId: "hung", netns: "/run/netns/hung", ifName: "eth0" };

function hangingList(command: string): NetworkConfigList {
  createFakePlugin(join(work, "bin"), join(work, "record"), "sleeper", { hangOn: command });
  return networkConfigListFromBytes(JSON.stringify({ name: "slow", cniVersion: "1.1.0", plugins: [{ type: "sleeper" }] }));
}

/** The pid of the `sleep` the hanging plugin started (its grandchild as seen from the runtime). */
function sleeperChild(): number {
  return Number(readFileSync(join(work, "record", "hang.pid"), "utf8"));
}

/** Gone, or a zombie waiting for its reaper: either way it no longer runs. */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function waitUntilStopped(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && isRunning(pid); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return !isRunning(pid);
}

describe("the per-call time limit", () => {
  it("kills a plugin that never finishes and says which plugin hung during which command", async () => {
    const network = hangingList("ADD");
    const cni = new CniRuntime({ path: [join(work, "bin")], cacheDir: join(work, "cache"), timeoutMs: 300, stderr: null });
    const started = Date.now();
    const failure = cni.addNetworkList(network, rt);
    await expect(failure).rejects.toThrow(PluginTimeoutError);
    await expect(failure).rejects.toThrow('plugin "sleeper" of network "slow" failed (ADD): did not finish within 300 ms and was killed');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("kills everything the plugin started, not only the plugin", async () => {
    const network = hangingList("ADD");
    const cni = new CniRuntime({ path: [join(work, "bin")], cacheDir: join(work, "cache"), timeoutMs: 300, stderr: null });
    await expect(cni.addNetworkList(network, rt)).rejects.toThrow(PluginTimeoutError);
    expect(await waitUntilStopped(sleeperChild())).toBe(true);
  });

  it("applies to every command, and a per-call limit overrides the runtime's", async () => {
    const network = hangingList("DEL");
    const cni = new CniRuntime({ path: [join(work, "bin")], cacheDir: join(work, "cache"), timeoutMs: 600_000, stderr: null });
    // Long enough for bash to start and record the call on a loaded machine, far below the runtime's limit.
    const failure = cni.delNetworkList(network, rt, { timeoutMs: 1500 });
    await expect(failure).rejects.toMatchObject({ timeoutMs: 1500, invocation: { plugin: "sleeper", command: "DEL", network: "slow" } });
    expect(readCalls(join(work, "record")).map((call) => call.command)).toEqual(["DEL"]);
  });

  it("kills the plugin when the caller aborts", async () => {
    const network = hangingList("CHECK");
    const cni = new CniRuntime({ path: [join(work, "bin")], cacheDir: join(work, "cache"), stderr: null });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    await expect(cni.checkNetworkList(network, rt, { signal: abort.signal })).rejects.toThrow(PluginAbortedError);
    expect(await waitUntilStopped(sleeperChild())).toBe(true);
  });
});
