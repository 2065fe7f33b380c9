import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CniError } from "../../../lib/core/index.ts";
import { readBoundedStdin } from "../../../lib/skel/stdin.ts";

const dir = mkdtempSync(join(tmpdir(), "stdin-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function withFile<T>(content: string | Buffer, read: (fd: number) => T): T {
  const path = join(dir, "input");
  writeFileSync(path, content);
  const fd = openSync(path, "r");
  try {
    return read(fd);
  } finally {
    closeSync(fd);
  }
}

describe("reading the configuration from stdin", () => {
  it("reads it whole, across many reads", () => {
    const text = `{"pad": "${"x".repeat(200_000)}"}`;
    expect(withFile(text, (fd) => readBoundedStdin(fd).toString("utf8"))).toBe(text);
  });

  it("refuses more than the limit with code 6 (16 MiB for plugins: /dev/zero on stdin cannot keep one reading)", () => {
    const error = withFile(Buffer.alloc(1000, 0x20), (fd) => {
      try {
        readBoundedStdin(fd, 100);
        return undefined;
      } catch (caught) {
        return caught;
      }
    });
    expect(error).toBeInstanceOf(CniError);
    expect(error).toMatchObject({ code: 6 });
  });
});
