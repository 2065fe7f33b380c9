import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { DIST } from "../helpers/paths.ts";

describe("the demo (README's first command)", () => {
  it("wires three containers together, passes every one of its checks and cleans up", () => {
    // scripts/demo.sh runs set-up and the build first; the test suite has built already, so the
    // demo itself runs against that build.
    const demo = spawnSync("node_modules/.bin/bun", ["scripts/demo.ts"], {
      env: { ...process.env, CNI_DIST: DIST },
      encoding: "utf8",
      timeout: 180_000,
    });
    const output = demo.stdout + demo.stderr;
    expect(demo.status, output).toBe(0);
    expect(output).toContain("Demo succeeded");
    expect(output).not.toContain("FAIL");
    expect(output.match(/\bok\b/g)?.length ?? 0).toBeGreaterThanOrEqual(20);
  }, 200_000);
});
