import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TuningContainer } from "./harness.ts";

const SETTINGS = { mac: "c2:11:22:33:44:66", mtu: 1400, promisc: true, sysctl: { "net.core.somaxconn": "777" } };

describe("tuning with a data directory that cannot be one", () => {
  const containers: TuningContainer[] = [];
  afterEach(() => {
    for (const container of containers.splice(0)) container.remove();
  });
  function attached(): TuningContainer {
    const container = new TuningContainer();
    containers.push(container);
    container.attach();
    return container;
  }

  const notDirectories: [string, (c: TuningContainer) => string][] = [
    ["/dev/null", () => "/dev/null"],
    ["a regular file", (c) => {
      const file = join(c.dataDir, "a-file");
      writeFileSync(file, "");
      return file;
    }],
    ["a path below a regular file", (c) => {
      const file = join(c.dataDir, "a-file");
      writeFileSync(file, "");
      return join(file, "below");
    }],
  ];

  it.each(notDirectories)("refuses ADD with code 7 naming dataDir when it is %s, and changes nothing in the container", (_what, dataDirOf) => {
    const c = attached();
    const dataDir = dataDirOf(c);
    const before = { link: c.link(), somaxconn: c.sysctl("net/core/somaxconn") };
    const add = c.tuning("ADD", { ...c.config(SETTINGS), dataDir });
    expect(add.status).toBe(1);
    expect(add.json).toMatchObject({ code: 7, msg: expect.stringContaining(`dataDir=${JSON.stringify(dataDir)}`) });
    expect(add.stderr).not.toMatch(/\n\s+at /);
    expect({ link: c.link(), somaxconn: c.sysctl("net/core/somaxconn") }).toEqual(before);
  });

  it.each(notDirectories)("answers DEL with exit 0 when dataDir is %s", (_what, dataDirOf) => {
    const c = attached();
    const del = c.tuning("DEL", { ...c.config(SETTINGS), dataDir: dataDirOf(c) });
    expect(del.status, del.stdout).toBe(0);
  });

  it("removes a saved-settings entry that is no regular file on DEL, restoring nothing, and exits 0", () => {
    const c = attached();
    mkdirSync(c.dataDir, { recursive: true });
    writeFileSync(c.savedStatePath(), "x".repeat(70 * 1024));
    const del = c.tuning("DEL", c.config(SETTINGS));
    expect(del.status, del.stdout).toBe(0);
    expect(del.stderr).toContain("removing unreadable saved settings");
  });
});
