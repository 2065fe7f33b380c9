/**
 * The bench run inside its namespace: every selected scenario in turn, results written at the
 * end whatever happened. A scenario that fails is recorded as failed and the others still run;
 * the bench never fails on timing.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { missingPlugins, progress, type BenchContext } from "./context.ts";
import type { Suite } from "./driver.ts";
import { BenchHost } from "./host.ts";
import { buildFloor, measureFloor } from "./floor.ts";
import { describeMachine } from "./machine.ts";
import { BANDWIDTH_CHAIN, bridgeNetwork, PODMAN_CHAIN, podmanCapabilities, podmanNetwork, SubnetPool, type BenchNetwork } from "./networks.ts";
import type { BenchOptions, ScenarioName } from "./options.ts";
import { renderMarkdown, type BenchResults, type Failed } from "./report.ts";
import { runChurn } from "./scenarios/churn.ts";
import { hostPorts, runCycles } from "./scenarios/cycle.ts";
import { runLeases } from "./scenarios/leases.ts";
import { runLoading } from "./scenarios/loading.ts";
import { runProfile } from "./scenarios/profile.ts";
import { measureResources } from "./scenarios/resources.ts";
import { runVersion } from "./scenarios/version.ts";

type Side = "reference" | "ours";

/** The lists of the cycle scenarios, what they need, and how to build one per suite. */
const CYCLE_SCENARIOS = {
  bridge: { plugins: ["bridge", "host-local"], network: (context: BenchContext, label: string) => bridgeNetwork({ host: context.host, subnets: context.subnets, label }) },
  chain: { plugins: [...PODMAN_CHAIN, "host-local"], network: (context: BenchContext, label: string) => podmanNetwork({ host: context.host, subnets: context.subnets, label }, false) },
  "chain-bandwidth": {
    plugins: [...BANDWIDTH_CHAIN, "host-local"],
    network: (context: BenchContext, label: string) => podmanNetwork({ host: context.host, subnets: context.subnets, label }, true),
  },
} as const;

type CycleScenario = keyof typeof CYCLE_SCENARIOS;

export async function runInside(tag: string, options: BenchOptions, command: string): Promise<BenchResults> {
  const host = new BenchHost(tag);
  host.installSignalCleanup();
  const reference: Suite = { id: "reference", bin: options.referenceBin };
  const ours: Suite = { id: "ours", bin: join(options.dist, "bin") };
  if (!existsSync(join(ours.bin, "bridge"))) {
    throw new Error(`no build of ours in ${ours.bin}: run \`node_modules/.bin/bun scripts/build.ts --outdir ${options.dist}\` first`);
  }
  const context: BenchContext = { options, host, subnets: new SubnetPool(), reference, ours, floor: await buildFloor(host.tempDir("floor")) };
  const started = performance.now();
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    seconds: 0,
    command,
    machine: describeMachine(),
    options,
    suites: { reference: reference.bin, ours: ours.bin },
    scenarios: {},
  };
  const ports = hostPorts();
  const capabilities = (side: Side) => podmanCapabilities(ports[side]);
  try {
    progress(`floor: an executable compiled as ours that prints {} and exits, x ${options.versionIterations * 2}`);
    results.floor = await measureFloor(context, context.floor, options.versionIterations * 2);
    for (const scenario of options.scenarios) {
      try {
        await runScenario(context, scenario, results, capabilities);
      } catch (error) {
        const failed: Failed = { failed: (error as Error).message };
        (results.scenarios as Record<string, unknown>)[scenario] = failed;
        progress(`${scenario}: failed: ${failed.failed}`);
      }
    }
  } finally {
    host.cleanup();
  }
  results.seconds = (performance.now() - started) / 1000;
  return results;
}

async function runScenario(context: BenchContext, scenario: ScenarioName, results: BenchResults, capabilities: (side: Side) => Record<string, unknown>): Promise<void> {
  switch (scenario) {
    case "version":
      results.scenarios.version = await runVersion(context);
      return;
    case "bridge":
    case "chain":
    case "chain-bandwidth": {
      const skipped = missingPlugins(context, CYCLE_SCENARIOS[scenario].plugins);
      if (skipped) {
        progress(`${scenario}: skipped: ${skipped.skipped}`);
        results.scenarios[scenario] = skipped;
        return;
      }
      results.scenarios[scenario] = await runCycles(context, scenario, networksFor(context, scenario), capabilities);
      return;
    }
    case "aa": {
      // Ours against ours: how far from 1.00 a ratio strays on this machine with nothing to find.
      const aa: NonNullable<BenchResults["scenarios"]["aa"]> = {};
      const self: BenchContext = { ...context, reference: { id: "reference", bin: context.ours.bin } };
      for (const name of ["bridge", "chain"] as const) {
        const skipped = missingPlugins(context, CYCLE_SCENARIOS[name].plugins);
        if (skipped) {
          aa[name] = skipped;
          continue;
        }
        const build = CYCLE_SCENARIOS[name].network;
        const networks = { reference: build(context, `aa-${name}-a`), ours: build(context, `aa-${name}-b`) };
        aa[name] = await runCycles(self, `A/A ${name} (ours against ours)`, networks, capabilities);
      }
      results.scenarios.aa = aa;
      return;
    }
    case "churn":
      results.scenarios.churn = await runChurn(context);
      return;
    case "leases":
      results.scenarios.leases = await runLeases(context);
      return;
    case "rss": {
      const rss: NonNullable<BenchResults["scenarios"]["rss"]> = {};
      for (const name of Object.keys(CYCLE_SCENARIOS) as CycleScenario[]) {
        const skipped = missingPlugins(context, CYCLE_SCENARIOS[name].plugins);
        rss[name] = skipped ?? (await measureResources(context, name, networksFor(context, name), capabilities));
      }
      results.scenarios.rss = rss;
      return;
    }
    case "loading":
      results.scenarios.loading = await runLoading(context);
      return;
    case "profile": {
      const name: CycleScenario = missingPlugins(context, CYCLE_SCENARIOS.chain.plugins) ? "bridge" : "chain";
      const network = CYCLE_SCENARIOS[name].network(context, `profile-${name}`);
      results.scenarios.profile = await runProfile(context, network, capabilities("ours"));
      return;
    }
  }
}

function networksFor(context: BenchContext, scenario: CycleScenario): Record<Side, BenchNetwork> {
  const build = CYCLE_SCENARIOS[scenario].network;
  return { reference: build(context, `${scenario}-ref`), ours: build(context, `${scenario}-ours`) };
}

/** Writes results.json and RESULTS.md into the output directory; returns their paths. */
export function writeResults(results: BenchResults, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const json = join(outDir, "results.json");
  const markdown = join(outDir, "RESULTS.md");
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(markdown, renderMarkdown(results));
  return [markdown, json];
}
