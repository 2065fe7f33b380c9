import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OUR_BIN } from "../../helpers/paths.ts";

/**
 * A short seeded torture run (scripts/torture.ts, the same as `npm run torture` with smaller
 * numbers): every plugin of the registry fuzzed, a few kills of the runtime in the podman
 * chain, a short soak and one parallel round. Deterministic by seed; any crash, hang, residue
 * or leak fails it, and its output names the case.
 */
const SEED = "15";
const dir = mkdtempSync(join(tmpdir(), "torture-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the torture suite, a short seeded run", () => {
  it("finds no crash, hang, residue or leak in a few hundred hostile invocations and a few kills", () => {
    const json = join(dir, "results.json");
    const args = ["scripts/torture.ts", "--seed", SEED, "--cases", "30", "--batch", "30", "--kills", "3", "--soak", "5", "--parallel", "6", "--rounds", "1"];
    const run = spawnSync("node_modules/.bin/bun", [...args, "--bin", OUR_BIN, "--json", json], { encoding: "utf8", timeout: 300_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);

    const results = JSON.parse(readFileSync(json, "utf8")) as {
      suites: { ours: { fuzz: { plugin: string; invocations: number; skipped?: string }[]; kill: { tries: number }; soak: { cycles: number }; parallel: { rounds: number } } };
    };
    const { fuzz, kill, soak, parallel } = results.suites.ours;
    expect(fuzz.filter((plugin) => plugin.skipped)).toEqual([]);
    expect(fuzz.reduce((sum, plugin) => sum + plugin.invocations, 0)).toBeGreaterThanOrEqual(200);
    expect([kill.tries, soak.cycles, parallel.rounds]).toEqual([3, 5, 1]);
  }, 300_000);
});
