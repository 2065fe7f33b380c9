import { existsSync, mkdirSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TuningContainer } from "./harness.ts";

/**
 * The allowlist lives at a fixed host path, as in the reference, so this test writes the real
 * file: only when there is none (a host's own allowlist is never touched), and removes it and
 * any directory it made afterwards. Other tuning tests run meanwhile, so it allows every key
 * except those under net.unix, which only this file uses.
 */
const ALLOWLIST = "/etc/cni/tuning/allowlist.conf";
const EVERYTHING_BUT_NET_UNIX = "^net[./][a-tv-z]\n^net[./]u[^n]\n";

describe("the sysctl allowlist at /etc/cni/tuning/allowlist.conf", () => {
  const hostHasOne = existsSync(ALLOWLIST);
  const createdDirs: string[] = [];
  let container: TuningContainer;

  beforeAll(() => {
    container = new TuningContainer();
    container.attach();
  });
  afterAll(() => {
    container?.remove();
  });

  function withAllowlist(work: () => void): void {
    for (let dir = dirname(ALLOWLIST); !existsSync(dir); dir = dirname(dir)) createdDirs.unshift(dir);
    mkdirSync(dirname(ALLOWLIST), { recursive: true });
    writeFileSync(ALLOWLIST, EVERYTHING_BUT_NET_UNIX, { flag: "wx" });
    try {
      work();
    } finally {
      rmSync(ALLOWLIST, { force: true });
      for (const dir of createdDirs.splice(0).reverse()) rmdirSync(dir);
    }
  }

  it("refuses a key no line allows (7), writing none of the keys, and allows the others", ({ skip }) => {
    if (hostHasOne) {
      console.warn(`skipped: ${ALLOWLIST} exists on this host and is not the test's to replace`);
      skip(`${ALLOWLIST} exists on this host`);
    }
    const qlen = container.sysctl("net/unix/max_dgram_qlen");
    const somaxconn = container.sysctl("net/core/somaxconn");
    withAllowlist(() => {
      const refused = container.tuning("ADD", container.config({ sysctl: { "net.core.somaxconn": "901", "net.unix.max_dgram_qlen": "77" } }));
      expect(refused.json).toMatchObject({
        code: 7,
        msg: expect.stringContaining(`sysctl key "net.unix.max_dgram_qlen": not allowed by ${ALLOWLIST}`),
      });
      expect(container.sysctl("net/unix/max_dgram_qlen")).toBe(qlen);
      expect(container.sysctl("net/core/somaxconn")).toBe(somaxconn);

      expect(container.tuning("ADD", container.config({ sysctl: { "net.core.somaxconn": "901" } })).status).toBe(0);
      expect(container.sysctl("net/core/somaxconn")).toBe("901");
    });
    expect(existsSync(ALLOWLIST)).toBe(false);
  });

  it("is not applied by CHECK: what ADD set before the allowlist came is still checked as set", ({ skip }) => {
    if (hostHasOne) {
      console.warn(`skipped: ${ALLOWLIST} exists on this host and is not the test's to replace`);
      skip(`${ALLOWLIST} exists on this host`);
    }
    const config = container.config({ sysctl: { "net.unix.max_dgram_qlen": "78" } });
    const result = container.tuning("ADD", config).json;
    withAllowlist(() => {
      expect(container.tuning("CHECK", { ...config, prevResult: result })).toMatchObject({ status: 0 });
    });
  });
});
