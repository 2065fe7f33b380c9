import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callPlugin, mustCall } from "../../helpers/cni.ts";
import { createNetns, linkExists, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { uniqueName } from "../../helpers/tag.ts";

/**
 * A process that holds host-local's lock and never lets go (a stuck plugin, an administrator's
 * flock) must not hang DEL: DEL answers code 11 (try again later) after its bounded wait, and
 * the runtime's retry, once the lock is free, removes everything.
 */
describe("DEL while another process holds the lease store's lock", () => {
  let network: TestNetwork;
  let netns: TestNetns;
  let holder: ChildProcess | undefined;

  beforeEach(() => {
    network = createTestNetwork({ dualStack: false });
    netns = createNetns("lk");
  });
  afterEach(() => {
    holder?.kill("SIGKILL");
    netns.remove();
    network.cleanup();
  });

  /** Holds an exclusive flock on the file until killed; resolves once it holds it. */
  function holdLock(path: string): Promise<ChildProcess> {
    return new Promise((resolve, reject) => {
      const child = spawn("flock", ["--exclusive", "--no-fork", path, "sh", "-c", "echo locked; exec sleep 600"], { stdio: ["ignore", "pipe", "inherit"] });
      child.stdout!.once("data", () => resolve(child));
      child.once("error", reject);
    });
  }

  it("answers code 11 instead of hanging, and a retry after the lock is free cleans everything", async () => {
    const call = { containerId: uniqueName("lk"), netns: netns.path, ifname: "eth0", config: network.bridgeConfig() };
    const result = mustCall("bridge", { ...call, command: "ADD" }).json as { interfaces: { name: string }[] };
    const hostVeth = result.interfaces[1]!.name;
    expect(network.leases()).toHaveLength(1);

    holder = await holdLock(join(network.dataDir, network.name, "lock"));
    const blocked = callPlugin("bridge", { ...call, command: "DEL" });
    expect(blocked.status).toBe(1);
    expect(blocked.json).toMatchObject({ code: 11, msg: expect.stringContaining("stayed locked by another process") });
    expect(network.leases()).toHaveLength(1);

    holder.kill("SIGKILL");
    await new Promise((resolve) => holder!.once("exit", resolve));
    holder = undefined;
    const retry = callPlugin("bridge", { ...call, command: "DEL" });
    expect(retry.status, retry.stdout).toBe(0);
    expect(network.leases()).toEqual([]);
    expect(linkExists(hostVeth)).toBe(false);
    expect(existsSync(join(network.dataDir, network.name))).toBe(true);
  });
});
