import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { DIST } from "../helpers/paths.ts";

describe("the multi-node demo (npm run demo -- --nodes 3)", () => {
  it("installs the plugins on three nodes, connects pods across them, reaches a published port from other nodes, and leaves nothing", () => {
    // scripts/demo.sh runs set-up and the build first; the test suite has built already, so the
    // demo itself runs against that build.
    const demo = spawnSync("node_modules/.bin/bun", ["scripts/cluster/demo.ts", "--nodes", "3"], {
      env: { ...process.env, CNI_DIST: DIST },
      encoding: "utf8",
      timeout: 240_000,
    });
    const output = demo.stdout + demo.stderr;
    expect(demo.status, output).toBe(0);
    expect(output).toContain("Demo succeeded");
    expect(output).not.toContain("FAIL");
    // 2 underlay pings, 3 installs + 1 rerun + 3 conflists, 6 adds, 6 pings, 3 x (DNAT + 2 GETs + source), 6 dels, 3 nodes clean + namespaces
    expect(output.match(/^\s+ok\s/gm)?.length ?? 0).toBe(2 + 7 + 6 + 6 + 12 + 6 + 4);
  }, 260_000);
});
