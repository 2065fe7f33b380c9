import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TARGETS } from "../../../scripts/torture/targets.ts";
import { OUR_BIN } from "../../helpers/paths.ts";

/**
 * A short seeded torture run (scripts/torture.ts, the same as `npm run torture` with smaller
 * numbers): every plugin of the registry fuzzed, a few kills of the runtime in the podman
 * chain, a short soak and one parallel round. Deterministic by seed; any crash, hang, residue
 * or leak fails it, and its output names the case.
 *
 * Short whatever the registry's size: about 120 fuzzed cases in all, split between the plugins
 * (at least 6 each). Robust on a busy machine: an invocation is a hang only after 30 s (a
 * plugin answers in milliseconds; a real hang never answers), and the worlds are namespaces of
 * the run's own, so other tests' links and rules are not seen.
 */
const SEED = "15";
const CASES_PER_PLUGIN = Math.max(6, Math.floor(120 / TARGETS.length));
const dir = mkdtempSync(join(tmpdir(), "torture-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the torture suite, a short seeded run", () => {
  it("finds no crash, hang, residue or leak in ~150 hostile invocations and a few kills", () => {
    const json = join(dir, "results.json");
    const cases = String(CASES_PER_PLUGIN);
    const args = ["scripts/torture.ts", "--seed", SEED, "--cases", cases, "--batch", cases, "--timeout", "30000", "--kills", "2", "--soak", "3", "--parallel", "4", "--rounds", "1"];
    const run = spawnSync("node_modules/.bin/bun", [...args, "--bin", OUR_BIN, "--json", json], { encoding: "utf8", timeout: 300_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);

    const results = JSON.parse(readFileSync(json, "utf8")) as {
      suites: { ours: { fuzz: { plugin: string; invocations: number; skipped?: string }[]; kill: { tries: number }; soak: { cycles: number }; parallel: { rounds: number } } };
    };
    const { fuzz, kill, soak, parallel } = results.suites.ours;
    expect(fuzz.map((plugin) => plugin.plugin)).toEqual(TARGETS.map((target) => target.plugin));
    // A plugin this kernel cannot run (no ipvlan link type, say) is skipped with its reason; one missing from the build is a defect.
    for (const plugin of fuzz.filter((entry) => entry.skipped)) console.log(`torture short run: ${plugin.plugin} skipped: ${plugin.skipped}`);
    expect(fuzz.filter((plugin) => plugin.skipped?.startsWith("not in "))).toEqual([]);
    expect(fuzz.reduce((sum, plugin) => sum + plugin.invocations, 0)).toBeGreaterThanOrEqual(CASES_PER_PLUGIN * fuzz.filter((plugin) => !plugin.skipped).length);
    expect([kill.tries, soak.cycles, parallel.rounds]).toEqual([2, 3, 1]);
  }, 300_000);
});
