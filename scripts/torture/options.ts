/** Command-line options of `npm run torture` (scripts/torture.ts). */
import { resolve } from "node:path";

export const PHASES = ["fuzz", "kill", "soak", "parallel"] as const;
export type Phase = (typeof PHASES)[number];

export interface TortureOptions {
  seed: number;
  /** Fuzzed cases per plugin. */
  cases: number;
  /** Cases per world (host namespace) before a fresh one. */
  batch: number;
  /** Plugins fuzzed at once. */
  jobs: number;
  kills: number;
  soakCycles: number;
  parallel: number;
  rounds: number;
  /** Time limit of one plugin invocation: no answer by then is a hang. */
  timeoutMs: number;
  phases: Phase[];
  /** Only these plugins (default: every plugin of the registry). */
  plugins: string[] | undefined;
  /** Also run the reference plugins on the same seeds, for comparison (never fails the run). */
  reference: boolean;
  ourBin: string;
  referenceBin: string;
  /** Where to write every result as JSON. */
  json: string | undefined;
}

export const USAGE = `Usage: npm run torture -- [options]

Fuzzes every plugin with hostile input, kills a runtime in the middle of the podman chain,
soaks and runs ADD/DEL in parallel; prints a table and exits non-zero on any crash, hang,
residue or leak of ours. Runs as root; everything happens in namespaces of its own.

  --seed N          seed of every random choice (default 1): the same seed, the same cases
  --cases N         fuzzed cases per plugin (default 450; a case is one or two invocations)
  --batch N         cases per throwaway host namespace (default 40)
  --jobs N          plugins fuzzed at once, each in namespaces of its own (default 2)
  --kills N         kill -9 tries in the podman chain (default 100)
  --soak N          ADD/DEL cycles of the soak (default 500)
  --parallel N      attachments added and deleted at once (default 64)
  --rounds N        rounds of the parallel phase (default 3)
  --timeout MS      an invocation without an answer after MS is a hang (default 10000)
  --phases LIST     some of ${PHASES.join(",")} (default all)
  --plugins LIST    only these plugins, comma-separated (default: every plugin in the registry)
  --reference       also run the reference plugins (/usr/lib/cni) on the same seeds
  --bin DIR         our plugins (default dist/bin)
  --reference-bin DIR  (default /usr/lib/cni)
  --json FILE       write all results as JSON
  --help
`;

export class UsageError extends Error {}

export function parseOptions(argv: readonly string[]): TortureOptions | "help" {
  const options: TortureOptions = {
    seed: 1,
    cases: 450,
    batch: 40,
    jobs: 2,
    kills: 100,
    soakCycles: 500,
    parallel: 64,
    rounds: 3,
    timeoutMs: 10_000,
    phases: [...PHASES],
    plugins: undefined,
    reference: false,
    ourBin: resolve("dist/bin"),
    referenceBin: "/usr/lib/cni",
    json: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    const count = (min = 0) => {
      const text = value();
      const number = Number(text);
      if (!Number.isInteger(number) || number < min) throw new UsageError(`${flag} ${text}: must be a whole number of at least ${min}`);
      return number;
    };
    switch (flag) {
      case "--help":
      case "-h":
        return "help";
      case "--seed":
        options.seed = count();
        break;
      case "--cases":
        options.cases = count();
        break;
      case "--batch":
        options.batch = count(1);
        break;
      case "--jobs":
        options.jobs = count(1);
        break;
      case "--kills":
        options.kills = count();
        break;
      case "--soak":
        options.soakCycles = count();
        break;
      case "--parallel":
        options.parallel = count();
        break;
      case "--rounds":
        options.rounds = count();
        break;
      case "--timeout":
        options.timeoutMs = count(100);
        break;
      case "--phases": {
        const phases = value().split(",").filter(Boolean);
        const unknown = phases.filter((phase) => !(PHASES as readonly string[]).includes(phase));
        if (unknown.length > 0) throw new UsageError(`--phases: unknown ${unknown.join(", ")} (known: ${PHASES.join(", ")})`);
        options.phases = phases as Phase[];
        break;
      }
      case "--plugins":
        options.plugins = value().split(",").filter(Boolean);
        break;
      case "--reference":
        options.reference = true;
        break;
      case "--bin":
        options.ourBin = resolve(value());
        break;
      case "--reference-bin":
        options.referenceBin = resolve(value());
        break;
      case "--json":
        options.json = resolve(value());
        break;
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  return options;
}
