/** Command-line options of `npm run bench` (bun scripts/bench.ts). */
import { resolve } from "node:path";

export const SCENARIOS = ["version", "bridge", "chain", "chain-bandwidth", "aa", "churn", "leases", "rss", "loading", "profile"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  scenarios: ScenarioName[];
  /** VERSION calls per plugin and suite. */
  versionIterations: number;
  /** Measured ADD+DEL cycles per suite in the cycle scenarios (after `warmup` unmeasured ones). */
  cycles: number;
  warmup: number;
  churnContainers: number;
  churnParallel: number;
  /** How many containers stay attached while churning (so addresses are reused while others are held). */
  churnHeld: number;
  churnRounds: number;
  leaseCounts: number[];
  leaseIterations: number;
  /** Our build: its bin/ directory is CNI_PATH for our suite. */
  dist: string;
  referenceBin: string;
  /** Where RESULTS.md and results.json are written. */
  outDir: string;
}

export const USAGE = `Usage: bun scripts/bench.ts [options]   (as root; npm run bench -- [options])

Runs the reference plugins and ours side by side through one in-process driver and writes
bench/RESULTS.md and bench/results.json. Everything runs inside a network namespace of its own.

  --scenarios LIST        comma-separated, default all: ${SCENARIOS.join(",")}
  --quick                 small iteration counts, for a smoke run (about a minute)
  --version-iterations N  VERSION calls per plugin and suite (default 30)
  --cycles N              measured ADD+DEL cycles per suite and chain scenario (default 20)
  --warmup N              unmeasured cycles first (default 2)
  --churn N               containers per churn round (default 200)
  --churn-parallel N      operations in flight at once (default 4)
  --churn-held N          containers kept attached while churning (default 16)
  --churn-rounds N        churn rounds per suite, alternating (default 2)
  --leases LIST           existing lease counts for the DEL growth scenario (default 10,1000,10000)
  --lease-iterations N    DELs measured per lease count and suite (default 15)
  --dist DIR              our build (default $CNI_DIST or dist); plugins in DIR/bin
  --reference DIR         reference plugins (default /usr/lib/cni)
  --out DIR               output directory (default bench)
  --help
`;

const DEFAULTS: Omit<BenchOptions, "dist" | "outDir" | "referenceBin"> = {
  scenarios: [...SCENARIOS],
  versionIterations: 30,
  cycles: 20,
  warmup: 2,
  churnContainers: 200,
  churnParallel: 4,
  churnHeld: 16,
  churnRounds: 2,
  leaseCounts: [10, 1000, 10000],
  leaseIterations: 15,
};

const QUICK: Partial<BenchOptions> = {
  versionIterations: 8,
  cycles: 4,
  warmup: 1,
  churnContainers: 40,
  churnRounds: 1,
  leaseCounts: [10, 1000],
  leaseIterations: 4,
};

export class UsageError extends Error {}

export function parseOptions(argv: readonly string[], env: Record<string, string | undefined>): BenchOptions | "help" {
  const options: BenchOptions = {
    ...DEFAULTS,
    dist: resolve(env.CNI_DIST ?? "dist"),
    referenceBin: "/usr/lib/cni",
    outDir: resolve("bench"),
  };
  if (argv.includes("--quick")) Object.assign(options, QUICK);
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index]!;
    if (flag === "--help" || flag === "-h") return "help";
    if (flag === "--quick") continue;
    const value = argv[++index];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    const count = COUNT_FLAGS[flag];
    if (count) {
      options[count.key] = positive(flag, value, count.minimum);
      continue;
    }
    switch (flag) {
      case "--scenarios":
        options.scenarios = parseScenarios(value);
        break;
      case "--leases":
        options.leaseCounts = value.split(",").map((number) => positive(flag, number));
        break;
      case "--dist":
        options.dist = resolve(value);
        break;
      case "--reference":
        options.referenceBin = resolve(value);
        break;
      case "--out":
        options.outDir = resolve(value);
        break;
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  return options;
}

type CountOption = "versionIterations" | "cycles" | "warmup" | "churnContainers" | "churnParallel" | "churnHeld" | "churnRounds" | "leaseIterations";

/** The options that take a count, and the least each accepts. */
const COUNT_FLAGS: Record<string, { key: CountOption; minimum: number }> = {
  "--version-iterations": { key: "versionIterations", minimum: 1 },
  "--cycles": { key: "cycles", minimum: 1 },
  "--warmup": { key: "warmup", minimum: 0 },
  "--churn": { key: "churnContainers", minimum: 1 },
  "--churn-parallel": { key: "churnParallel", minimum: 1 },
  "--churn-held": { key: "churnHeld", minimum: 0 },
  "--churn-rounds": { key: "churnRounds", minimum: 1 },
  "--lease-iterations": { key: "leaseIterations", minimum: 1 },
};

function parseScenarios(value: string): ScenarioName[] {
  const names = value.split(",").filter((name) => name !== "");
  for (const name of names) {
    if (!(SCENARIOS as readonly string[]).includes(name)) {
      throw new UsageError(`--scenarios: unknown scenario "${name}" (known: ${SCENARIOS.join(", ")})`);
    }
  }
  return names as ScenarioName[];
}

function positive(flag: string, value: string, minimum = 1): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum) throw new UsageError(`${flag}: "${value}" is not an integer >= ${minimum}`);
  return number;
}
