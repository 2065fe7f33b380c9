import { LOCK_WAIT_MS } from "../../../lib/ipam/store.ts";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HostLocalStore } from "../../../lib/ipam/index.ts";
import { HostLocalNetwork, OURS, REFERENCE } from "./harness.ts";

let net: HostLocalNetwork;
beforeEach(() => {
  net = new HostLocalNetwork();
});
afterEach(() => net.remove());

/** Every address handed out, from the results of successful ADDs. */
function addressesOf(results: { status: number; stdout: string; json: { ips: { address: string }[] } }[]): string[] {
  for (const result of results) expect(result.status, result.stdout).toBe(0);
  return results.flatMap((result) => result.json.ips.map((ip) => ip.address));
}

describe("concurrent ADDs on one network", () => {
  it("never hand out an address twice among 48 ADDs started at once", async () => {
    const config = net.config();
    const results = await Promise.all(Array.from({ length: 48 }, (_, n) => net.callAsync("ADD", config, { containerId: `c${n}` })));
    const addresses = addressesOf(results);
    expect(addresses).toHaveLength(96);
    expect(new Set(addresses).size).toBe(96);
    expect(Object.keys(net.leases())).toHaveLength(96);
    // The lock serialised them, so together they took the first 48 addresses of each range set.
    const { v4Prefix } = net.subnets;
    expect(addresses.filter((address) => address.startsWith(v4Prefix)).sort()).toEqual(
      Array.from({ length: 48 }, (_, n) => `${v4Prefix}.${n + 2}/24`).sort(),
    );
  });

  it("share the lock with the reference: interleaved ADDs and DELs by both never collide", async () => {
    const config = net.config();
    const binaryFor = (n: number) => (n % 2 === 0 ? OURS : REFERENCE);
    const adds = await Promise.all(
      Array.from({ length: 40 }, (_, n) => net.callAsync("ADD", config, { containerId: `c${n}`, binary: binaryFor(n) })),
    );
    const addresses = addressesOf(adds);
    expect(new Set(addresses).size).toBe(80);

    // Half go away, each through the other implementation, while 20 more arrive.
    const churn = await Promise.all([
      ...Array.from({ length: 20 }, (_, n) => net.callAsync("DEL", config, { containerId: `c${n}`, binary: binaryFor(n + 1) })),
      ...Array.from({ length: 20 }, (_, n) => net.callAsync("ADD", config, { containerId: `d${n}`, binary: binaryFor(n) })),
    ]);
    for (const result of churn) expect(result.status, result.stdout).toBe(0);
    const leases = net.leases();
    const holders = Object.values(leases);
    expect(holders).toHaveLength(80);
    expect(new Set(Object.keys(leases)).size).toBe(80);
    for (let n = 0; n < 20; n++) expect(holders).not.toContain(`c${n}\r\neth0`);

    // Our DEL still finds every lease of the survivors, whoever wrote them.
    const dels = await Promise.all(
      [...Array.from({ length: 20 }, (_, n) => `c${n + 20}`), ...Array.from({ length: 20 }, (_, n) => `d${n}`)].map((containerId) =>
        net.callAsync("DEL", config, { containerId }),
      ),
    );
    for (const result of dels) expect(result.status, result.stdout).toBe(0);
    expect(net.leases()).toEqual({});
  });
});

describe("the lock shared with the reference", () => {
  it("makes the reference wait while we hold it", async () => {
    const config = net.config();
    const store = HostLocalStore.open(net.dataDir, net.name); // takes the lock, as our plugin does
    let finished = false;
    const add = net.callAsync("ADD", config, { binary: REFERENCE }).then((result) => {
      finished = true;
      return result;
    });
    try {
      await sleep(700);
      expect(finished).toBe(false);
      expect(net.leases()).toEqual({});
    } finally {
      store.close();
    }
    expect((await add).status).toBe(0);
    expect(Object.keys(net.leases())).toHaveLength(2);
  });

  it("makes our plugin wait while another process holds it with flock(2)", async () => {
    mkdirSync(net.leaseDir, { recursive: true });
    // flock(1) takes the same lock the reference's go-filemutex takes: flock(LOCK_EX) on <dir>/lock.
    const holder = spawn("flock", ["--exclusive", join(net.leaseDir, "lock"), "sleep", "1"]);
    const released = once(holder, "close");
    await sleep(200);
    const started = performance.now();
    const add = await net.callAsync("ADD", net.config());
    expect(add.status, add.stdout).toBe(0);
    expect(performance.now() - started).toBeGreaterThan(600);
    await released;
  });

  it("answers code 11 (try again later) when the lock stays held past the wait limit, leaving no lease", async () => {
    mkdirSync(net.leaseDir, { recursive: true });
    const holdSeconds = LOCK_WAIT_MS / 1000 + 3;
    const holder = spawn("flock", ["--exclusive", join(net.leaseDir, "lock"), "sleep", String(holdSeconds)]);
    const released = once(holder, "close");
    try {
      await sleep(200);
      const add = await net.callAsync("ADD", net.config());
      expect(add.status).toBe(1);
      expect(JSON.parse(add.stdout)).toMatchObject({ code: 11, msg: expect.stringContaining("try again later") });
      expect(net.leases()).toEqual({});
    } finally {
      holder.kill();
      await released;
    }
  }, LOCK_WAIT_MS + 20_000);
});
