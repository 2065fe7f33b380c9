import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileRefused, readSmallFile } from "../../../lib/sys/small-file.ts";

const dir = mkdtempSync(join(tmpdir(), "small-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(path: string, limit?: number): string | undefined {
  try {
    readSmallFile(path, limit);
    return undefined;
  } catch (error) {
    return error instanceof FileRefused ? error.reason : `not refused: ${(error as Error).message}`;
  }
}

describe("reading a small file that a configuration names", () => {
  it("reads a regular file up to the limit", () => {
    writeFileSync(join(dir, "ok"), "nameserver 192.0.2.1\n");
    expect(readSmallFile(join(dir, "ok"), 21).toString()).toBe("nameserver 192.0.2.1\n");
  });

  it("refuses a file over the limit by its size, before reading it", () => {
    execFileSync("truncate", ["-s", "2G", join(dir, "huge")]);
    expect(refusal(join(dir, "huge"))).toBe("is 2147483648 bytes, more than the 65536 a file read here may have");
  });

  it("refuses what is no regular file: a FIFO (without blocking), a device, a directory", () => {
    execFileSync("mkfifo", [join(dir, "fifo")]);
    expect(refusal(join(dir, "fifo"))).toBe("is not a regular file (it is a FIFO)");
    expect(refusal("/dev/zero")).toBe("is not a regular file (it is a character device)");
    expect(refusal(dir)).toBe("is not a regular file (it is a directory)");
  });

  it("passes on the error of a file that cannot be opened", () => {
    expect(() => readSmallFile(join(dir, "missing"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });
});
