import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compareVersionNumbers, isExecutable, isRegularFile, searchPath } from "../../../lib/core/index.ts";

describe("compareVersionNumbers", () => {
  it("orders by the most significant component first", () => {
    expect(compareVersionNumbers([1, 0, 1], [0, 4, 0])).toBeGreaterThan(0);
    expect(compareVersionNumbers([0, 3, 1], [0, 4, 0])).toBeLessThan(0);
    expect(compareVersionNumbers([1, 1, 0], [1, 1, 0])).toBe(0);
  });

  it("counts a missing component as 0", () => {
    expect(compareVersionNumbers([1], [1, 0, 0])).toBe(0);
    expect(compareVersionNumbers([1, 0], [1, 0, 1])).toBeLessThan(0);
  });
});

describe("searchPath", () => {
  const root = mkdtempSync(join(tmpdir(), "core-path-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const [first, second] = [join(root, "first"), join(root, "second")];
  mkdirSync(first);
  mkdirSync(second);
  writeFileSync(join(first, "tool"), "");
  writeFileSync(join(second, "tool"), "#!/bin/sh\n");
  chmodSync(join(second, "tool"), 0o755);
  mkdirSync(join(first, "dir-not-file"));

  it("takes the first directory whose file passes the test", () => {
    expect(searchPath("tool", [first, second], isRegularFile)).toBe(join(first, "tool"));
  });

  it("skips files that fail the test, as a shell skips files it may not execute", () => {
    expect(searchPath("tool", [first, second], isExecutable)).toBe(join(second, "tool"));
  });

  it("finds nothing when no directory has the name, and never takes a directory for a regular file", () => {
    expect(searchPath("missing", [first, second], isRegularFile)).toBeUndefined();
    expect(searchPath("dir-not-file", [first], isRegularFile)).toBeUndefined();
  });
});
